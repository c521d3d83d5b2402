//! Failed sign-ins slow down what follows, per account and per address: after a key's
//! free failures within [`WINDOW`] ([`FREE_FAILURES`] for an account, [`FREE_ADDRESS_FAILURES`]
//! for an address, which many people may share behind one NAT), each further failure
//! locks the key for twice as long as the last (30 s, 1 min, 2 min … at most 15 min). The
//! lockout tells when to retry. Counts live in the warehouse, so every replica applies
//! the same.

use pipeline::warehouse::accounts::Failures;

/// Failures of one account allowed before a lockout.
pub const FREE_FAILURES: i64 = 5;
/// Failures from one address allowed before a lockout (several accounts behind one NAT).
pub const FREE_ADDRESS_FAILURES: i64 = 20;
/// Failures older than this are forgotten.
pub const WINDOW: i64 = 15 * 60;
const FIRST_LOCK: i64 = 30;
const LONGEST_LOCK: i64 = 15 * 60;

/// The key of an account or an address.
pub fn account_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

/// The free failures of a key made by [`account_key`] or [`address_key`].
pub fn free_failures(key: &str) -> i64 {
    if key.starts_with("addr:") {
        FREE_ADDRESS_FAILURES
    } else {
        FREE_FAILURES
    }
}

/// When the key may try again, if it is locked at `now`.
pub fn locked_until(f: Option<Failures>, now: i64) -> Option<i64> {
    f.map(|f| f.locked_until).filter(|until| *until > now)
}

/// The failures after one more at `now`, for a key with `free` free failures.
pub fn after_failure(f: Option<Failures>, now: i64, free: i64) -> Failures {
    let earlier = f
        .filter(|f| now - f.last_failure <= WINDOW)
        .map(|f| f.failures)
        .unwrap_or(0);
    let failures = earlier + 1;
    let locked_until = if failures > free {
        let doublings = (failures - free - 1).min(10) as u32;
        now + (FIRST_LOCK << doublings).min(LONGEST_LOCK)
    } else {
        0
    };
    Failures {
        failures,
        last_failure: now,
        locked_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_five_and_doubles_up_to_fifteen_minutes() {
        let mut f = None;
        for i in 1..=5 {
            let next = after_failure(f, 1000 + i, FREE_FAILURES);
            assert_eq!(next.locked_until, 0, "failure {i} is free");
            f = Some(next);
        }
        let sixth = after_failure(f, 1010, FREE_FAILURES);
        assert_eq!(sixth.locked_until, 1040);
        assert_eq!(locked_until(Some(sixth), 1020), Some(1040));
        assert_eq!(locked_until(Some(sixth), 1040), None);
        let seventh = after_failure(Some(sixth), 1050, FREE_FAILURES);
        assert_eq!(seventh.locked_until, 1110);
        let mut g = seventh;
        for i in 0..20 {
            g = after_failure(Some(g), 1200 + i, FREE_FAILURES);
        }
        assert_eq!(g.locked_until - g.last_failure, LONGEST_LOCK);
        // After a quiet window, the count starts again.
        assert_eq!(
            after_failure(Some(g), g.last_failure + WINDOW + 1, FREE_FAILURES).failures,
            1
        );
    }
}
