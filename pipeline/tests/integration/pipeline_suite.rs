//! The pipeline suite, run on every backend (SQLite and PostgreSQL).

use crate::common;

use bytes::Bytes;
use chrono::{Duration, NaiveDate};
use common::{d, envs, quiet, utc};
use pipeline::clock::HourSlot;
use pipeline::jobs::reconcile::RunOptions;
use pipeline::ledger::Partition;
use pipeline::records::Feed;
use pipeline::runs::{Job, RunStatus};
use pipeline::Lake;

/// Open days in [from, to].
fn open_days(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut n = 0;
    let mut x = from;
    while x <= to {
        if pipeline::calendar::is_open_day(x) {
            n += 1;
        }
        x = x.succ_opt().expect("next");
    }
    n
}

/// The ledger partition of an hour key (`2025-03-10T11`).
fn hour(key: &str) -> Partition {
    Partition::parse(key).expect("hour key")
}

#[tokio::test]
async fn backfill_fills_every_layer_and_is_idempotent() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let (from, to) = (d("2025-03-03"), d("2025-03-16"));
        let first = env.backfill_ok(from, to).await;
        assert_eq!(
            first.done.get(&Job::Collect),
            Some(&(14 * 24)),
            "{}",
            env.label
        );
        assert_eq!(first.done.get(&Job::Ingest), Some(&(14 * 24)));
        assert_eq!(first.done.get(&Job::Transform), Some(&14));
        let days = open_days(from, to);
        let raw = p.warehouse.raw_counts().await.expect("counts");
        assert_eq!(raw, (days * 24 * 83, days * 24 * 10), "{}", env.label);
        let fp = p
            .warehouse
            .analytics_fingerprint()
            .await
            .expect("fingerprint");
        assert_eq!(
            fp.visitor_rows,
            days * 83 * 11,
            "{}: one row per open sensor-hour",
            env.label
        );
        assert_eq!(fp.transaction_rows, days * 10 * 11);

        // Again: the ledger says all is done, nothing runs.
        let second = p
            .backfill(from, to, RunOptions::default(), &quiet)
            .await
            .expect("again");
        assert_eq!(second.total_done(), 0);
        // Forced: everything runs again and changes nothing.
        let forced = p
            .backfill(
                from,
                to,
                RunOptions {
                    force: true,
                    retry_failed: false,
                },
                &quiet,
            )
            .await
            .expect("forced");
        // collect + ingest + detect per hour, transform + detect per day.
        assert_eq!(forced.total_done(), 14 * 24 * 3 + 14 * 2);
        assert_eq!(
            p.warehouse.raw_counts().await.expect("counts"),
            raw,
            "{}",
            env.label
        );
        assert_eq!(
            p.warehouse.analytics_fingerprint().await.expect("fp"),
            fp,
            "{}",
            env.label
        );
        env.close().await;
    }
}

#[tokio::test]
async fn an_interrupted_backfill_completes_on_rerun_without_loss_or_duplicates() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let (from, to) = (d("2025-03-03"), d("2025-03-12"));
        // Stop after the third day, as a shutdown would.
        let days_seen = std::sync::atomic::AtomicU32::new(0);
        let stopper = p.clone();
        let progress = move |e: pipeline::jobs::reconcile::ProgressEvent| {
            if let pipeline::jobs::reconcile::ProgressEvent::DayDone { .. } = e {
                if days_seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2 {
                    stopper.request_stop();
                }
            }
        };
        let partial = p
            .backfill(from, to, RunOptions::default(), &progress)
            .await
            .expect("partial");
        assert!(partial.interrupted);
        // A crash mid-partition leaves a `running` row and no committed data for it.
        p.warehouse
            .ledger_start(Job::Ingest, hour("2025-03-10T11"), env.clock_now())
            .await
            .expect("ledger");

        // A new process: the old one's job lock is gone with it.
        p.leadership.release().await;
        let env2_pipeline = pipeline::Pipeline::new(
            p.simulator.clone(),
            p.lake.clone(),
            p.warehouse.clone(),
            p.clock.clone(),
            p.config.clone(),
        );
        let rest = env2_pipeline
            .backfill(from, to, RunOptions::default(), &quiet)
            .await
            .expect("rerun");
        assert!(!rest.interrupted);
        assert_eq!(rest.total_failed(), 0);
        let days = open_days(from, to);
        assert_eq!(
            p.warehouse.raw_counts().await.expect("counts"),
            (days * 24 * 83, days * 24 * 10),
            "{}",
            env.label
        );
        let fp = p.warehouse.analytics_fingerprint().await.expect("fp");
        assert_eq!(
            (fp.visitor_rows, fp.transaction_rows),
            (days * 83 * 11, days * 10 * 11),
            "{}",
            env.label
        );
        let summary = p.warehouse.ledger_summary().await.expect("summary");
        assert!(
            summary.iter().all(|(_, status, _)| status.key() == "done"),
            "{summary:?}"
        );
        env.close().await;
    }
}

#[tokio::test]
async fn a_broken_lake_object_is_collected_again_or_names_its_repair() {
    for source_can_repair in [true, false] {
        for env in envs(utc("2025-03-20T12:00:00Z")).await {
            let p = if source_can_repair {
                env.pipeline.clone()
            } else {
                // A source that cannot produce the hour again (nothing listens there).
                let http = pipeline::source::HttpSource::new("http://127.0.0.1:9")
                    .expect("source")
                    .with_retry(pipeline::source::RetryPolicy {
                        attempts: 1,
                        base: std::time::Duration::from_millis(1),
                    });
                env.pipeline
                    .clone()
                    .with_source(pipeline::Source::Http(http))
            };
            let slot = HourSlot::new(d("2025-03-11"), 10).expect("slot");
            // The hour was collected, then its object was truncated; another hour holds a
            // foreign file (the wrong feed's Parquet).
            let good = pipeline::parquet_codec::encode_visitors(&[]).expect("encode");
            p.lake
                .put(Feed::Visiteurs, slot, good.slice(0..good.len() / 2))
                .await
                .expect("put");
            p.lake
                .put(
                    Feed::Transactions,
                    slot,
                    Bytes::from_static(b"PAR1 not really"),
                )
                .await
                .expect("put");
            let other = HourSlot::new(d("2025-03-11"), 14).expect("slot");
            let foreign = pipeline::parquet_codec::encode_transactions(&[]).expect("encode");
            p.lake
                .put(Feed::Visiteurs, other, foreign.clone())
                .await
                .expect("put");
            p.lake
                .put(Feed::Transactions, other, foreign)
                .await
                .expect("put");
            for s in [slot, other] {
                p.warehouse
                    .ledger_start(Job::Collect, Partition::Hour(s), env.clock_now())
                    .await
                    .expect("start");
                p.warehouse
                    .ledger_finish(
                        Job::Collect,
                        Partition::Hour(s),
                        Ok((0, 0)),
                        env.clock_now(),
                        0,
                        None,
                    )
                    .await
                    .expect("finish");
            }
            if source_can_repair {
                // The simulator can produce the hours again: both are repaired on the way.
                let run = p
                    .backfill(
                        d("2025-03-10"),
                        d("2025-03-12"),
                        RunOptions::default(),
                        &quiet,
                    )
                    .await
                    .expect("backfill");
                assert_eq!(run.total_failed(), 0, "{}: {:?}", env.label, run);
                assert_eq!(run.repaired, 2, "{}", env.label);
                assert_eq!(run.done.get(&Job::Ingest), Some(&(3 * 24)));
                assert_eq!(run.done.get(&Job::Transform), Some(&3));
                let (v, t) = p
                    .warehouse
                    .raw_rows_for_date(d("2025-03-11"))
                    .await
                    .expect("raw");
                assert_eq!((v.len(), t.len()), (24 * 83, 24 * 10));
            } else {
                let run = p
                    .backfill(
                        d("2025-03-11"),
                        d("2025-03-11"),
                        RunOptions::default(),
                        &quiet,
                    )
                    .await
                    .expect("backfill");
                assert_eq!(
                    run.failed.get(&Job::Ingest),
                    Some(&2),
                    "{}: {:?}",
                    env.label,
                    run
                );
                assert_eq!(run.repaired, 0);
                let failed = p
                    .warehouse
                    .ledger_recent(Some(RunStatus::Failed), 100)
                    .await
                    .expect("ledger");
                let ingest: Vec<String> = failed
                    .iter()
                    .filter(|f| f.job == Job::Ingest)
                    .filter_map(|f| f.error.clone())
                    .collect();
                assert_eq!(ingest.len(), 2);
                for error in &ingest {
                    assert!(error.contains("data.parquet"), "names the object: {error}");
                    assert!(
                        error.contains(
                            "datamag360 backfill --from 2025-03-11 --to 2025-03-11 --force"
                        ),
                        "names the repair: {error}"
                    );
                }
                assert!(
                    ingest
                        .iter()
                        .any(|m| m.contains("not a readable Parquet file")),
                    "{ingest:?}"
                );
                assert!(
                    ingest.iter().any(|m| m.contains("missing column")),
                    "{ingest:?}"
                );
                // Nothing half-written: the broken hours have no raw rows.
                let (v, _) = p
                    .warehouse
                    .raw_rows_for_date(d("2025-03-11"))
                    .await
                    .expect("raw");
                assert_eq!(v.len(), 0);
            }
            env.close().await;
        }
    }
}

#[tokio::test]
async fn dst_days_have_every_local_hour_once() {
    for env in envs(utc("2025-11-05T12:00:00Z")).await {
        let p = &env.pipeline;
        for (from, to) in [("2025-03-29", "2025-03-31"), ("2025-10-25", "2025-10-27")] {
            let r = p
                .backfill(d(from), d(to), RunOptions::default(), &quiet)
                .await
                .expect("backfill");
            assert_eq!(r.total_failed(), 0);
        }
        let states = p
            .warehouse
            .ledger_states(Job::Collect, d("2025-03-30"), d("2025-03-30"))
            .await
            .expect("ledger");
        let mut hours: Vec<&String> = states.keys().collect();
        hours.sort();
        assert_eq!(hours.len(), 23, "spring: 02h does not exist");
        assert!(!states.contains_key("2025-03-30T02"));
        let autumn = p
            .warehouse
            .ledger_states(Job::Collect, d("2025-10-26"), d("2025-10-26"))
            .await
            .expect("ledger");
        assert_eq!(autumn.len(), 24, "autumn: 02h once as a slot");
        assert!(!env
            .dir
            .path()
            .join("lake/visiteurs/date=2025-03-30/hour=02")
            .exists());
        assert!(env
            .dir
            .path()
            .join("lake/visiteurs/date=2025-10-26/hour=02/data.parquet")
            .exists());
        // The open day after each change is complete in analytics.
        let fp = p.warehouse.analytics_fingerprint().await.expect("fp");
        assert_eq!(
            fp.visitor_rows,
            2 * 83 * 11,
            "{}: Mondays 03-31 and 10-27 are the open days",
            env.label
        );
        env.close().await;
    }
}

#[tokio::test]
async fn after_a_day_of_downtime_start_up_catches_up_every_hour_and_night() {
    for env in envs(utc("2025-06-10T10:30:00Z")).await {
        let p = &env.pipeline;
        let first = p.reconcile(2).await.expect("reconcile").expect("ran");
        assert_eq!(first.total_failed(), 0);
        let before = p
            .warehouse
            .ledger_states(Job::Collect, d("2025-06-01"), d("2025-06-30"))
            .await
            .expect("ledger")
            .len();
        // The server is down for two days: no tick at all.
        env.clock.advance(Duration::hours(48));
        let catch_up = p.reconcile(2).await.expect("reconcile").expect("ran");
        assert_eq!(catch_up.total_failed(), 0);
        assert_eq!(catch_up.done.get(&Job::Collect), Some(&48), "{}", env.label);
        assert_eq!(catch_up.done.get(&Job::Ingest), Some(&48));
        assert_eq!(
            catch_up.done.get(&Job::Transform),
            Some(&2),
            "{}: 06-10 and 06-11 nights",
            env.label
        );
        let after = p
            .warehouse
            .ledger_states(Job::Collect, d("2025-06-01"), d("2025-06-30"))
            .await
            .expect("ledger");
        assert_eq!(after.len(), before + 48);
        // Every hour from the start to now is there, none twice.
        let start = d("2025-06-08");
        let latest = HourSlot::latest_available(env.clock_now());
        let mut expected = 0;
        let mut x = start;
        while x <= latest.date {
            expected += HourSlot::hours_of_day(x).filter(|s| *s <= latest).count();
            x = x.succ_opt().expect("next");
        }
        assert_eq!(after.len(), expected);
        env.close().await;
    }
}

#[tokio::test]
async fn lake_files_keep_the_original_layout() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        p.backfill(
            d("2025-03-14"),
            d("2025-03-14"),
            RunOptions::default(),
            &quiet,
        )
        .await
        .expect("backfill");
        let slot = HourSlot::new(d("2025-03-14"), 10).expect("slot");
        let path = env
            .dir
            .path()
            .join("lake")
            .join(Lake::partition_path(Feed::Visiteurs, slot));
        assert!(path.ends_with("visiteurs/date=2025-03-14/hour=10/data.parquet"));
        let rows = pipeline::parquet_codec::decode_visitors(Bytes::from(
            std::fs::read(&path).expect("file"),
        ))
        .expect("decode");
        assert_eq!(rows.len(), 83);
        assert!(rows
            .iter()
            .all(|r| r.date == "2025-03-14" && r.heure == "10:00:00"));
        env.close().await;
    }
}

trait ClockNow {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl ClockNow for common::Env {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use pipeline::Clock;
        self.clock.now()
    }
}
