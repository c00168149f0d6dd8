//! Runtime state behind the guardrails: the active-blackout snapshot, the
//! in-memory engagement index for frequency caps, the asynchronous
//! decision-log writer, and retention. The store stays the source of truth;
//! this module keeps what scoring reads hot, so scoring never waits on the
//! store once a brand's data is loaded.

mod blackouts;
mod decision_log;
mod engagements;
mod retention;

pub use blackouts::Blackouts;
pub use decision_log::{DecisionLog, DecisionWriter, decision_log};
pub use engagements::{EngagementIndex, day_bounds};
pub use retention::run_retention;
