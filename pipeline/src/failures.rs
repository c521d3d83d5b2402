//! Failed ledger partitions grouped by job and error: what the warehouse reads from the
//! ledger and what the pipeline page shows (in the browser too, so no `runtime` here).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::runs::Job;

/// Failed partitions sharing a job and an error message. `T` holds the time of the next
/// retry: an instant in the ledger, Paris time written out on the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureGroup<T = DateTime<Utc>> {
    pub job: Job,
    pub error: String,
    pub partitions: i64,
    pub first_partition: String,
    pub last_partition: String,
    /// Partitions with no automatic retry left (a person must retry them).
    pub exhausted: i64,
    /// The earliest scheduled retry of the group.
    pub next_attempt_at: Option<T>,
}

impl<T> FailureGroup<T> {
    /// The same group, the time of its next retry held otherwise.
    pub fn map_retry<U>(self, f: impl FnOnce(T) -> U) -> FailureGroup<U> {
        FailureGroup {
            job: self.job,
            error: self.error,
            partitions: self.partitions,
            first_partition: self.first_partition,
            last_partition: self.last_partition,
            exhausted: self.exhausted,
            next_attempt_at: self.next_attempt_at.map(f),
        }
    }
}
