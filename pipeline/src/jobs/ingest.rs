//! Ingest: one hour's Parquet objects from the lake into `raw.*`, replacing that
//! partition's rows in one transaction.

use super::{JobError, Pipeline};
use crate::clock::HourSlot;
use crate::lake::Lake;
use crate::parquet_codec;
use crate::records::Feed;

/// The raw `lot` of a collected hour.
pub fn lot_of(slot: HourSlot) -> String {
    format!("collect:{}", slot.key())
}

impl Pipeline {
    /// Ingests one hour; returns (rows read, rows written).
    pub async fn ingest(&self, slot: HourSlot) -> Result<(i64, i64), JobError> {
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
        .map_err(|e| JobError::Other(format!("ingest task failed: {e}")))??;
        let rows = (visitors.len() + transactions.len()) as i64;
        self.warehouse
            .replace_raw_lot(&lot_of(slot), &visitors, &transactions, self.clock.now())
            .await?;
        Ok((rows, rows))
    }
}
