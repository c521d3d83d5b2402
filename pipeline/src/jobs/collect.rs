//! Collect: one Paris hour from the source into the lake, both feeds. Re-running it
//! overwrites the same two objects.

use super::{JobError, Pipeline};
use crate::clock::HourSlot;
use crate::lake::Lake;
use crate::parquet_codec;
use crate::records::{Feed, TransactionRow, VisitorRow};
use crate::runs::Job;
use crate::simulator::Simulator;
use crate::source::Source;

/// The rows the simulator yields for one hour (empty on closed days, as the original's
/// collector kept only real counts).
pub fn simulate_hour(sim: &Simulator, slot: HourSlot) -> (Vec<VisitorRow>, Vec<TransactionRow>) {
    let hour = sim.chain_hour(slot.date, slot.hour);
    let date = crate::spelling::date_text(slot.date);
    let heure = slot.heure();
    let visitors = hour
        .readings
        .iter()
        .map(|(store, sensor, r)| VisitorRow {
            store_id: store.store_id as i64,
            sensor_id: sensor.sensor_id as i64,
            date: date.clone(),
            heure: heure.clone(),
            nb_visiteurs: r.value,
        })
        .collect();
    let transactions = hour
        .sales
        .iter()
        .map(|(store, s)| TransactionRow {
            store_id: store.store_id as i64,
            date: date.clone(),
            heure: heure.clone(),
            transactions: Some(s.transactions),
            chiffre_affaires: Some(s.chiffre_affaires),
        })
        .collect();
    (visitors, transactions)
}

impl Pipeline {
    /// Collects one hour from the pipeline's [`Source`]; returns the number of rows
    /// written.
    pub async fn collect(&self, slot: HourSlot) -> Result<i64, JobError> {
        let (visitors, transactions) = match &self.source {
            Source::Simulator => {
                let sim = self.simulator.clone();
                tokio::task::spawn_blocking(move || simulate_hour(&sim, slot))
                    .await
                    .map_err(JobError::task(Job::Collect.key()))?
            }
            Source::Http(http) => http.fetch_hour(self.simulator.reference(), slot).await?,
        };
        let encoded = tokio::task::spawn_blocking(move || {
            let v =
                parquet_codec::encode_visitors(&visitors).map_err(|source| JobError::Codec {
                    path: Lake::partition_path(Feed::Visiteurs, slot),
                    source,
                })?;
            let t = parquet_codec::encode_transactions(&transactions).map_err(|source| {
                JobError::Codec {
                    path: Lake::partition_path(Feed::Transactions, slot),
                    source,
                }
            })?;
            Ok::<_, JobError>((v, t, (visitors.len() + transactions.len()) as i64))
        })
        .await
        .map_err(JobError::task(Job::Collect.key()))??;
        let (v, t, rows) = encoded;
        self.lake.put(Feed::Visiteurs, slot, v).await?;
        self.lake.put(Feed::Transactions, slot, t).await?;
        tracing::debug!(partition = %slot.key(), rows, source = %self.source.describe(), "hour collected");
        Ok(rows)
    }
}
