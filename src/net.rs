//! The server's TCP connections, as HTTP/2 sees them.
//!
//! h2 0.4 copies a DATA frame into its write buffer only when the payload is
//! under a threshold: 256 bytes when the socket says it can write vectored,
//! 1,024 bytes when it cannot. A larger payload is held aside and must be
//! written out before the next frame can be buffered. A whole assessment is
//! about 620 bytes, so on a vectored socket every Score answer costs two
//! `writev` calls (headers and message, then trailers) where a health check
//! costs one, and answers of concurrent RPCs are never written together.
//! Each loopback write costs about 10 µs of kernel time on this machine.
//!
//! [`CoalescingStream`] reports that it cannot write vectored, so answers up
//! to 1 KiB are copied into h2's buffer and go out with their trailers and
//! with other streams' frames in one write. Frames above 1 KiB (big
//! ScoreBatch and RankBrands answers) are still written without a copy.
//!
//! The same wrapper enforces the connection limits that a stream of bytes
//! can see: it holds one of `--max-connections` permits for as long as the
//! connection lives, and it closes a connection that has carried no RPC for
//! `--idle-timeout-secs` (reported as end-of-stream to h2, which then
//! drops the connection). Whether an RPC is open is told by the envelope
//! (`grpc::envelope`) through the [`Activity`] shared in the connection's
//! [`PeerInfo`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::Connected;

/// Which RPCs a connection has open, and since when it has had none.
#[derive(Debug)]
pub struct Activity {
    open: AtomicUsize,
    /// Microseconds after `base` when the last RPC ended (or the
    /// connection was accepted).
    idle_since_us: AtomicU64,
    base: Instant,
}

impl Activity {
    fn new() -> Self {
        Self {
            open: AtomicUsize::new(0),
            idle_since_us: AtomicU64::new(0),
            base: Instant::now(),
        }
    }

    /// Marks one RPC open until the guard is dropped.
    pub fn begin(self: &Arc<Self>) -> ActivityGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        ActivityGuard(self.clone())
    }

    /// When the connection may be closed for idleness if nothing changes.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        if self.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = Duration::from_micros(self.idle_since_us.load(Ordering::Acquire));
        Some(self.base + since + timeout)
    }
}

/// An open RPC on a connection.
#[derive(Debug)]
pub struct ActivityGuard(Arc<Activity>);

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        let now = self.0.base.elapsed().as_micros() as u64;
        self.0.idle_since_us.fetch_max(now, Ordering::AcqRel);
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the envelope learns of a connection (through the request's
/// extensions; under TLS, inside tonic's `TlsConnectInfo`).
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote: Option<SocketAddr>,
    pub activity: Arc<Activity>,
}

/// An accepted TCP connection that asks h2 to coalesce small frames,
/// counts against the connection limit, and closes itself when idle.
#[derive(Debug)]
pub struct CoalescingStream {
    io: TcpStream,
    peer: PeerInfo,
    idle_timeout: Duration,
    idle: Pin<Box<Sleep>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl CoalescingStream {
    pub fn new(
        io: TcpStream,
        idle_timeout: Duration,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Self {
        let peer = PeerInfo {
            remote: io.peer_addr().ok(),
            activity: Arc::new(Activity::new()),
        };
        Self {
            io,
            peer,
            idle_timeout,
            idle: Box::pin(tokio::time::sleep(idle_timeout)),
            _permit: permit,
        }
    }

    /// True when the connection has been idle past its timeout; otherwise
    /// re-arms the timer (registering the waker).
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.idle.as_mut().poll(cx).is_pending() {
                return false;
            }
            let now = Instant::now();
            match self.peer.activity.idle_deadline(self.idle_timeout) {
                Some(deadline) if deadline <= now => return true,
                Some(deadline) => self.idle.as_mut().reset(deadline),
                // An RPC is open: look again a whole timeout later.
                None => self.idle.as_mut().reset(now + self.idle_timeout),
            }
        }
    }
}

impl Connected for CoalescingStream {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.peer.clone()
    }
}

impl AsyncRead for CoalescingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Pending if this.idle_expired(cx) => {
                tracing::debug!(peer = ?this.peer.remote, "closing idle connection");
                // End of stream: h2 ends the connection as if the peer had.
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for CoalescingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    // The default `poll_write_vectored` writes the first non-empty buffer
    // only, which is correct for callers that are told `false` here.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// A served connection: plaintext, or TLS over the same wrapper (so the
/// connection limit and the idle timer apply to both).
#[derive(Debug)]
pub enum ServerConn {
    Plain(CoalescingStream),
    Tls(Box<tokio_rustls::server::TlsStream<CoalescingStream>>),
}

impl Connected for ServerConn {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        match self {
            ServerConn::Plain(s) => s.peer.clone(),
            ServerConn::Tls(s) => s.get_ref().0.peer.clone(),
        }
    }
}

impl AsyncRead for ServerConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ServerConn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ServerConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerConn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ServerConn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Plain(s) => Pin::new(s).poll_flush(cx),
            ServerConn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ServerConn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerConn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ServerConn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    // Plaintext: see CoalescingStream. TLS: rustls copies into its own
    // records either way, so vectored writes save nothing there either.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// Settings of the accept loop.
pub struct AcceptConfig {
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// Accepts connections on its own task and yields them once ready (TLS
/// handshakes run concurrently, each under the handshake timeout, so a slow
/// or silent client never holds up the others). Over `max_connections`, a
/// connection is closed at once. Ends, closing the listener, when the
/// returned stream is dropped.
pub fn accept(
    listener: tokio::net::TcpListener,
    config: AcceptConfig,
) -> tokio_stream::wrappers::ReceiverStream<io::Result<ServerConn>> {
    const READY_QUEUE: usize = 64;
    /// Pause after an accept error (e.g. out of descriptors), so the loop
    /// does not spin while the condition lasts.
    const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
    let (tx, rx) = tokio::sync::mpsc::channel(READY_QUEUE);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(
        config
            .max_connections
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
    ));
    let acceptor = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                r = listener.accept() => r,
                () = tx.closed() => break,
            };
            let socket = match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                // Closing at once keeps the descriptor budget for the
                // connections that are served (and for health checks).
                crate::metrics::Metrics::inc(&config.metrics.connections_refused);
                tracing::debug!("connection refused: --max-connections reached");
                continue;
            };
            // Small unary messages: do not wait for Nagle.
            let _ = socket.set_nodelay(true);
            let stream = CoalescingStream::new(socket, config.idle_timeout, Some(permit));
            let Some(acceptor) = &acceptor else {
                if tx.send(Ok(ServerConn::Plain(stream))).await.is_err() {
                    break;
                }
                continue;
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            let limit = config.handshake_timeout;
            tokio::spawn(async move {
                let peer = stream.peer.remote;
                match tokio::time::timeout(limit, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(ServerConn::Tls(Box::new(tls)))).await;
                    }
                    Ok(Err(e)) => tracing::debug!(?peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(?peer, "TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// File descriptors kept for everything but client connections: the store's
/// pool, its WAL files, the metrics endpoint, logs and the listeners.
const RESERVED_FDS: u64 = 64;
/// Used when the open-file limit cannot be read.
const FALLBACK_FD_LIMIT: u64 = 1024;

/// The default for `--max-connections`: what the process's open-file limit
/// leaves after the reserve, so idle sockets run out of connection slots
/// (and are refused) before the process runs out of descriptors.
pub fn default_max_connections() -> usize {
    let limit = open_file_limit().unwrap_or(FALLBACK_FD_LIMIT);
    usize::try_from(limit.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX)
}

/// The soft RLIMIT_NOFILE, read from /proc (Linux) without unsafe code.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    match line["Max open files".len()..].split_whitespace().next()? {
        "unlimited" => Some(u64::MAX),
        soft => soft.parse().ok(),
    }
}
