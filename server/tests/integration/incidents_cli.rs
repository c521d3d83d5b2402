//! `datamag360 incidents`: the simulator's ground truth, as the in-process simulator
//! gives it; none with `DATAMAG_INCIDENTS=off` or the original profile.

use std::process::Command;
use std::sync::Arc;

use pipeline::{Reference, Simulator};

use super::common::BIN;

fn incidents(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("incidents")
        .args(args)
        .env_remove("DATAMAG_INCIDENTS")
        .env_remove("DATAMAG_SIMULATOR")
        .env_remove("DATAMAG_SYNTHETIC_STORES")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("runs")
}

#[test]
fn the_truth_is_printed_as_json_and_as_a_table() {
    let range = ["--from", "2024-01-01", "--to", "2024-03-31"];
    let out = incidents(&[&range[..], &["--format", "json"]].concat(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let sim = Simulator::new(Arc::new(Reference::embedded()));
    let truth = sim.incidents(
        "2024-01-01".parse().expect("d"),
        "2024-03-31".parse().expect("d"),
    );
    assert!(!truth.is_empty());
    let expected = serde_json::to_value(&truth).expect("json");
    let (printed_rows, expected_rows) = (
        printed.as_array().expect("array"),
        expected.as_array().expect("array"),
    );
    assert_eq!(printed_rows.len(), expected_rows.len());
    for (p, e) in printed_rows.iter().zip(expected_rows) {
        for key in ["kind", "store_id", "sensor_id", "start", "end"] {
            assert_eq!(p.get(key), e.get(key), "{key}: {p} vs {e}");
        }
        // Factors as decimal text read back within a rounding.
        let factor = |v: &serde_json::Value| v["factor"].as_f64();
        match (factor(p), factor(e)) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "{p} vs {e}"),
            (a, b) => assert_eq!(a, b),
        }
    }

    let out = incidents(&range, &[]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("kind"), "{table}");
    assert!(
        table.contains(&format!("{} incident(s)", truth.len())),
        "{table}"
    );

    // A synthetic chain has its own incidents.
    let out = incidents(
        &[
            &range[..],
            &["--format", "json", "--synthetic-stores", "40"],
        ]
        .concat(),
        &[],
    );
    let big: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(big.len() > truth.len());
}

#[test]
fn no_incidents_when_they_are_off_or_in_the_original_profile() {
    let args = [
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--format",
        "json",
    ];
    for env in [
        vec![("DATAMAG_INCIDENTS", "off")],
        vec![("DATAMAG_SIMULATOR", "original")],
    ] {
        let out = incidents(&args, &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
        assert!(printed.is_empty(), "{env:?}");
    }
    let out = incidents(&["--from", "2024-02-01", "--to", "2024-01-01"], &[]);
    assert_eq!(out.status.code(), Some(65));
}
