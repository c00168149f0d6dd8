//! `--json` output: a message in the proto's canonical JSON mapping, the
//! shape grpcurl and every protobuf library print (camelCase names, enum
//! names, 64-bit integers as strings, RFC 3339 timestamps, `"600s"`
//! durations, fields at their default left out, the `optional` scores
//! always present). Converted through the descriptors the binary already
//! embeds for server reflection, so the output follows the proto, not a
//! hand-kept copy of it.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage};

use crate::grpc::pb;

fn pool() -> Result<&'static DescriptorPool, String> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET)
            .map_err(|e| format!("the embedded proto descriptors do not decode: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A message type the client prints.
pub trait ProtoName: prost::Message {
    /// Its full proto name.
    const NAME: &'static str;
}

macro_rules! proto_names {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl ProtoName for $ty {
            const NAME: &'static str = $name;
        })*
    };
}

proto_names! {
    pb::ScoreResponse => "kairos.v1.ScoreResponse",
    pb::BrandProfile => "kairos.v1.BrandProfile",
    pb::GetBrandProfileResponse => "kairos.v1.GetBrandProfileResponse",
    pb::DeleteBrandProfileResponse => "kairos.v1.DeleteBrandProfileResponse",
    pb::ImportBrandProfilesResponse => "kairos.v1.ImportBrandProfilesResponse",
    pb::Blackout => "kairos.v1.Blackout",
    pb::CreateBlackoutResponse => "kairos.v1.CreateBlackoutResponse",
    pb::DeleteBlackoutResponse => "kairos.v1.DeleteBlackoutResponse",
    pb::DecisionRecord => "kairos.v1.DecisionRecord",
}

/// `message` as one line of canonical proto JSON, fields in the proto's
/// order (as grpcurl prints them).
pub fn line<M: ProtoName>(message: &M) -> Result<String, String> {
    let descriptor = pool()?
        .get_message_by_name(M::NAME)
        .ok_or_else(|| format!("{} is not in the embedded descriptors", M::NAME))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| format!("cannot re-read a {}: {e}", M::NAME))?;
    serde_json::to_string(&dynamic).map_err(|e| format!("cannot print a {}: {e}", M::NAME))
}
