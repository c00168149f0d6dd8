//! Trace export: the real binary with `--otlp-endpoint` sends its per-RPC
//! spans to an OTLP collector (a tonic TraceService from the published
//! OpenTelemetry protos, in this test), continuing the caller's trace.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kairos::grpc::pb;
use kairos::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;

use crate::durability::start_binary_with;

/// (service.name, service.version, span name, trace id in hex).
type Received = Arc<Mutex<Vec<(String, String, String, String)>>>;

struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut got = self.0.lock().unwrap();
        for rs in request.into_inner().resource_spans {
            let attr = |key: &str| {
                rs.resource
                    .as_ref()
                    .and_then(|r| r.attributes.iter().find(|a| a.key == key))
                    .and_then(|a| a.value.as_ref()?.value.clone())
                    .map(|v| match v {
                        Value::StringValue(s) => s,
                        other => format!("{other:?}"),
                    })
                    .unwrap_or_default()
            };
            let (name, version) = (attr("service.name"), attr("service.version"));
            for ss in rs.scope_spans {
                for span in ss.spans {
                    let trace: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                    got.push((name.clone(), version.clone(), span.name, trace));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_collector_in_the_callers_trace() {
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = listener.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(received.clone())))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{collector}");
    let (mut child, addr) =
        start_binary_with(dir.path(), &["--otlp-endpoint".as_ref(), endpoint.as_ref()]);
    let mut client = BrandProfileServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(pb::GetBrandProfileRequest {
        brand_id: "nobody".into(),
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace}-00f067aa0ba902b7-01").parse().unwrap(),
    );
    let status = client.get_brand_profile(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);

    let start = Instant::now();
    let found = loop {
        let got = received.lock().unwrap().clone();
        if let Some(span) = got
            .iter()
            .find(|s| s.2 == "kairos.v1.BrandProfileService/GetBrandProfile")
        {
            break span.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no span arrived: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(found.0, "kairos");
    assert_eq!(found.1, env!("CARGO_PKG_VERSION"));
    assert_eq!(found.3, trace, "the caller's trace continues");
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
}
