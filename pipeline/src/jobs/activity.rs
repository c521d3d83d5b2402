//! The runs in progress in this process (reconciliation, backfill), with the days each
//! covers: the dashboard says "being prepared" only for days a run is working through.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

/// The day ranges of the runs in progress; cheap to clone and to read.
#[derive(Debug, Clone, Default)]
pub struct RunActivity {
    runs: Arc<Mutex<Vec<(u64, NaiveDate, NaiveDate)>>>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

/// Removes its run from the activity when dropped (the run ended, failed or was cancelled).
#[derive(Debug)]
pub struct RunGuard {
    activity: RunActivity,
    id: u64,
}

impl RunActivity {
    /// Records a run over `from..=to` until the guard is dropped.
    pub fn start(&self, from: NaiveDate, to: NaiveDate) -> RunGuard {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut runs) = self.runs.lock() {
            runs.push((id, from, to));
        }
        RunGuard {
            activity: self.clone(),
            id,
        }
    }

    /// True when a run in progress covers `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.runs
            .lock()
            .map(|runs| runs.iter().any(|(_, a, b)| *a <= date && date <= *b))
            .unwrap_or(false)
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Ok(mut runs) = self.activity.runs.lock() {
            runs.retain(|(id, _, _)| *id != self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_covers_its_days_until_it_ends() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        let activity = RunActivity::default();
        assert!(!activity.covers(d("2024-09-02")));
        let guard = activity.start(d("2024-09-02"), d("2024-09-06"));
        let seen = activity.clone();
        assert!(seen.covers(d("2024-09-02")) && seen.covers(d("2024-09-06")));
        assert!(!seen.covers(d("2024-09-07")));
        drop(guard);
        assert!(!seen.covers(d("2024-09-04")));
    }
}
