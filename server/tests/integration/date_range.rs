//! The binary refuses a backfill outside the service's range (2021-01-01 to the last
//! complete hour) with a clear message and a non-zero exit, and writes nothing.

use std::process::Command;

use super::common::BIN;

#[test]
fn a_backfill_outside_the_service_range_exits_non_zero_and_writes_nothing() {
    for (from, to) in [
        ("2019-12-30", "2020-01-02"),
        ("0000-01-01", "0000-12-31"),
        ("2999-01-01", "2999-01-02"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let out = Command::new(BIN)
            .args(["backfill", "--from", from, "--to", to])
            .env("DATAMAG_DATA_DIR", &data)
            .env_remove("DATABASE_URL")
            .env_remove("DATAMAG_LAKE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .expect("runs");
        assert!(!out.status.success(), "{from} → {to}: refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("outside the service's range") && stderr.contains("2021-01-01"),
            "{from} → {to}: {stderr}"
        );
        assert!(!data.exists(), "{from} → {to}: nothing written");
    }
}
