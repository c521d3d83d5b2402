//! Issue 28 with the real binary: `backup` while `serve` runs, `restore` refused while it
//! runs, backups killed at any moment leave no file `restore` accepts unless it is whole,
//! and `restore` on the stopped server; `rebuild` refusing a written warehouse.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::common::{free_port, serve_command, Server, BIN};

fn run(args: &[&str], data_dir: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATAMAG_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("DATAMAG_LAKE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn backup_while_serving_interrupted_backups_and_restore_on_a_stopped_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = run(
        &["backfill", "--from", "2024-03-04", "--to", "2024-03-10"],
        &data,
    );
    assert!(out.status.success(), "backfill: {}", text(&out));

    let port = free_port();
    let mut cmd = serve_command(port);
    cmd.env("DATAMAG_DATA_DIR", &data)
        .env("DATAMAG_SITE_ROOT", dir.path())
        .env("DATAMAG_NO_SCHEDULER", "1")
        .env_remove("DATABASE_URL")
        .env_remove("DATAMAG_LAKE_URL");
    let server = Server::start(cmd, port, Duration::from_secs(60));

    let good = dir.path().join("good.dm360");
    let out = run(&["backup", "--to", &good.display().to_string()], &data);
    assert!(out.status.success(), "backup while serving: {}", text(&out));
    assert!(text(&out).contains("sha256"), "{}", text(&out));

    // Refused while the server runs, and nothing is replaced.
    let out = run(&["restore", "--from", &good.display().to_string()], &data);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("stop the server"), "{}", text(&out));

    // Backups killed at growing delays: either no file under the name asked for, or a
    // file that restores whole; what a killed one leaves beside it is never accepted.
    for (i, delay) in [0u64, 5, 10, 20, 40, 80, 160].into_iter().enumerate() {
        let target = dir.path().join(format!("killed-{i}.dm360"));
        let mut child = Command::new(BIN)
            .args(["backup", "--to", &target.display().to_string()])
            .env("DATAMAG_DATA_DIR", &data)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("backup starts");
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let elsewhere = dir.path().join(format!("check-{i}"));
        if target.exists() {
            let out = run(
                &["restore", "--from", &target.display().to_string()],
                &elsewhere,
            );
            assert!(
                out.status.success(),
                "a complete backup restores: {}",
                text(&out)
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!(".killed-{i}.")))
            })
            .collect();
        for staging in leftovers {
            let partial = staging.join("backup");
            if partial.exists() {
                let out = run(
                    &["restore", "--from", &partial.display().to_string()],
                    &elsewhere,
                );
                assert_eq!(
                    out.status.code(),
                    Some(65),
                    "a partial copy: {}",
                    text(&out)
                );
            }
        }
    }

    // The rebuild refuses the written warehouse and says what it holds.
    let out = run(&["rebuild"], &data);
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("not empty"), "{}", text(&out));

    drop(server);
    // The server is stopped: the restore checks the file and puts it in place.
    let out = run(&["restore", "--from", &good.display().to_string()], &data);
    assert!(out.status.success(), "restore: {}", text(&out));
    let out = run(&["status"], &data);
    assert!(out.status.success(), "status after restore: {}", text(&out));
    assert!(text(&out).contains("transform"), "{}", text(&out));
}
