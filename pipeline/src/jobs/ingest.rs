//! Ingest: one hour's Parquet objects from the lake into `raw.*`, replacing that
//! partition's rows. The reconciler loads a day's due hours, then writes them in one
//! transaction (`Warehouse::replace_raw_lots`). A lake object found missing or unreadable
//! is collected again from the source (when it can produce the hour) and read again.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{JobError, Pipeline};
use crate::clock::HourSlot;
use crate::lake::Lake;
use crate::ledger::Partition;
use crate::parquet_codec;
use crate::records::Feed;
use crate::runs::Job;
use crate::warehouse::raw::RawLot;

impl Pipeline {
    /// Reads and decodes one hour's two lake objects: the raw lot ingest writes.
    pub async fn load_hour(&self, slot: HourSlot) -> Result<RawLot, JobError> {
        let v_bytes = self.lake.get(Feed::Visiteurs, slot).await?;
        let t_bytes = self.lake.get(Feed::Transactions, slot).await?;
        let (visitors, transactions) = tokio::task::spawn_blocking(move || {
            let v = parquet_codec::decode_visitors(v_bytes).map_err(|source| JobError::Codec {
                path: Lake::partition_path(Feed::Visiteurs, slot),
                source,
            })?;
            let t =
                parquet_codec::decode_transactions(t_bytes).map_err(|source| JobError::Codec {
                    path: Lake::partition_path(Feed::Transactions, slot),
                    source,
                })?;
            Ok::<_, JobError>((v, t))
        })
        .await
        .map_err(JobError::task(Job::Ingest.key()))??;
        Ok(RawLot {
            lot: crate::warehouse::raw::lot_of(slot),
            visitors,
            transactions,
        })
    }

    /// Loads one hour (see [`Pipeline::load_hour`]); when a lake object of the hour is
    /// missing or unreadable, collects the hour again (recorded in the ledger, logged as a
    /// warning, `repaired` set) and loads it then. If the source cannot produce the hour,
    /// the error names the command that repairs it.
    pub async fn load_or_repair(
        &self,
        slot: HourSlot,
        repaired: &AtomicBool,
    ) -> Result<RawLot, JobError> {
        let damage = match self.load_hour(slot).await {
            Err(e) if e.is_damaged_lake_object() => e,
            other => return other,
        };
        let key = slot.key();
        tracing::warn!(
            partition = %key,
            error = %damage,
            "lake object missing or unreadable: collecting the hour again"
        );
        let recollected = self
            .run_recorded(Job::Collect, Partition::Hour(slot), async {
                self.collect(slot).await.map(|n| (n, n))
            })
            .await?;
        match recollected {
            Ok(_) => {
                repaired.store(true, Ordering::SeqCst);
                self.load_hour(slot).await
            }
            Err(error) => Err(JobError::Unrepaired {
                damage: Box::new(damage),
                error,
                date: slot.date,
            }),
        }
    }
}
