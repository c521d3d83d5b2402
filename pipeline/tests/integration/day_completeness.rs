//! Issue 27: the ledger's aggregate of a period (`Warehouse::ledger_day_counts`, one
//! query) read by `PeriodCompleteness` on every backend: a backfilled weekend after the
//! last open day is complete, a failed partition names its day, days before the first day
//! are not collected.

use pipeline::clock::HourSlot;
use pipeline::day_completeness::{DayRange, DayState, PeriodCompleteness};
use pipeline::ledger::Partition;
use pipeline::runs::Job;

use crate::common::{d, envs, utc};

#[tokio::test]
async fn the_ledger_says_which_days_are_complete() {
    // Monday 2025-03-17 11:00 Paris, backfilled Monday 10th → Sunday 16th.
    let now = utc("2025-03-17T10:00:00Z");
    for env in envs(now).await {
        let w = &env.pipeline.warehouse;
        env.backfill_ok(d("2025-03-10"), d("2025-03-16")).await;
        let first = w.pipeline_first_day().await.expect("first day");
        assert_eq!(first, Some(d("2025-03-10")), "{}", env.label);
        let nothing = |_| false;
        let week = |counts: &[_]| {
            PeriodCompleteness::compute(
                d("2025-03-10"),
                d("2025-03-16"),
                now,
                first,
                counts,
                &nothing,
            )
        };
        let counts = w
            .ledger_day_counts(d("2025-03-10"), d("2025-03-16"))
            .await
            .expect("counts");
        let p = week(&counts);
        assert!(p.is_complete(), "{}: {:?}", env.label, p.gaps());
        assert_eq!(
            w.ledger_complete_range().await.expect("range"),
            Some((d("2025-03-10"), d("2025-03-16"))),
            "{}",
            env.label
        );
        // One collect of Wednesday fails.
        let wednesday_11 = Partition::Hour(HourSlot {
            date: d("2025-03-12"),
            hour: 11,
        });
        w.ledger_start(Job::Collect, wednesday_11, now)
            .await
            .expect("start");
        w.ledger_finish(Job::Collect, wednesday_11, Err("down"), now, 1, None)
            .await
            .expect("finish");
        let counts = w
            .ledger_day_counts(d("2025-03-10"), d("2025-03-16"))
            .await
            .expect("counts");
        // Started "now": a moment later it is no longer a run at work.
        let later = now + chrono::Duration::minutes(1);
        let p = PeriodCompleteness::compute(
            d("2025-03-10"),
            d("2025-03-16"),
            later,
            first,
            &counts,
            &nothing,
        );
        assert_eq!(
            p.gaps(),
            vec![DayRange {
                from: d("2025-03-12"),
                to: d("2025-03-12"),
                state: DayState::Failed
            }],
            "{}",
            env.label
        );
        // Before the first day: not collected.
        let counts = w
            .ledger_day_counts(d("2025-03-03"), d("2025-03-09"))
            .await
            .expect("counts");
        assert!(counts.is_empty(), "{}", env.label);
        let p = PeriodCompleteness::compute(
            d("2025-03-03"),
            d("2025-03-11"),
            later,
            first,
            &counts,
            &nothing,
        );
        assert_eq!(p.gaps()[0].state, DayState::NotCollected, "{}", env.label);
        assert_eq!(p.gaps()[0].to, d("2025-03-09"), "{}", env.label);
        env.close().await;
    }
}
