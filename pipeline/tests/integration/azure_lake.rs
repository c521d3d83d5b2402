//! The `az://` lake against Azurite, the Azure Blob Storage emulator: a real collect and
//! ingest through the pipeline, then the objects listed and read back.
//!
//! Azurite comes from DATAMAG_AZURITE (set by scripts/test.sh; installed by
//! scripts/setup.sh). In CI (CI=true) a missing Azurite fails the test; elsewhere the
//! test is skipped with a message.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use object_store::ObjectStore;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::jobs::reconcile::RunOptions;
use pipeline::parquet_codec;
use pipeline::records::Feed;
use pipeline::runs::Job;
use pipeline::{FixedClock, Lake, Pipeline, PipelineConfig, Reference, Simulator, Warehouse};

/// Azurite's well-known development account (public, documented by Microsoft).
const ACCOUNT: &str = "devstoreaccount1";
const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CONTAINER: &str = "datamag-lake";

/// A running Azurite blob service; killed when dropped.
struct Azurite {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Azurite {
    /// `http://127.0.0.1:PORT/devstoreaccount1`: the account's blob endpoint.
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// object_store options reaching this emulator, passed explicitly (no environment).
    fn options(&self) -> Vec<(&'static str, String)> {
        vec![
            ("azure_storage_account_name", ACCOUNT.to_string()),
            ("azure_storage_account_key", ACCOUNT_KEY.to_string()),
            ("azure_storage_endpoint", self.endpoint()),
            ("azure_allow_http", "true".to_string()),
        ]
    }
}

/// Where the `azurite-blob` launcher is, or `None` (after a message) when it is missing
/// outside CI.
fn azurite_bin() -> Option<PathBuf> {
    let bin = match std::env::var("DATAMAG_AZURITE") {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            let tools = std::env::var("DATAMAG_TOOLS")
                .map(PathBuf::from)
                .unwrap_or_else(|_| {
                    PathBuf::from(std::env::var("HOME").unwrap_or_default())
                        .join(".cache/datamag360/tools")
                });
            tools.join("node/node_modules/.bin/azurite-blob")
        }
    };
    if bin.is_file() {
        return Some(bin);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "Azurite not found at {} (DATAMAG_AZURITE): in CI the az:// lake test must run; \
             scripts/setup.sh installs it",
            bin.display()
        );
    }
    eprintln!(
        "Azurite not found at {}: az:// lake test skipped on this machine (run scripts/setup.sh)",
        bin.display()
    );
    None
}

/// Starts Azurite on a free port (it picks one: `--blobPort 0`) with its data in a
/// temporary folder, and waits until it listens.
fn start_azurite(bin: &PathBuf) -> Azurite {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--location"])
        .arg(dir.path())
        .args(["--disableTelemetry", "--silent", "--skipApiVersionCheck"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the start-up lines, then drains the pipe until Azurite exits.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line
                .split("listens on http://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.trim().trim_end_matches('/').parse::<u16>().ok())
            {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(port);
                }
            }
        }
    });
    let mut azurite = Azurite {
        child,
        port: 0,
        _dir: dir,
    };
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(port) => azurite.port = port,
        Err(_) => {
            let status = azurite.child.try_wait().ok().flatten();
            panic!("Azurite did not report a listening port within 60 s (exit status: {status:?})");
        }
    }
    azurite
}

/// Creates a container with a Shared Key signed `PUT ?restype=container`, as the Azure
/// SDKs do (object_store has no call for it).
async fn create_container(azurite: &Azurite, container: &str) {
    let url = format!("{}/{container}?restype=container", azurite.endpoint());
    let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let version = "2021-12-02";
    // Path-style (emulator) addressing: the resource is /account + the URL path.
    let resource = format!("/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container");
    let string_to_sign =
        format!("PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{resource}");
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine.decode(ACCOUNT_KEY).expect("account key is base64");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signature = engine.encode(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let response = reqwest::Client::new()
        .put(&url)
        .header("x-ms-date", &date)
        .header("x-ms-version", version)
        .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT {url}: {e}"));
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status.as_u16(), 201, "create container: {status} {body}");
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("timestamp")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn collect_and_ingest_through_an_azure_blob_lake() {
    let Some(bin) = azurite_bin() else {
        return;
    };
    let azurite = start_azurite(&bin);
    create_container(&azurite, CONTAINER).await;

    let lake = Lake::from_url_with_options(&format!("az://{CONTAINER}/lake"), azurite.options())
        .expect("az:// lake");
    assert_eq!(lake.description(), format!("az://{CONTAINER}/lake"));
    let dir = tempfile::tempdir().expect("tempdir");
    let warehouse = Warehouse::open_in_dir(&dir.path().join("db"))
        .await
        .expect("sqlite warehouse");
    let simulator = Arc::new(Simulator::new(Arc::new(Reference::embedded())));
    let pipeline = Pipeline::new(
        simulator.clone(),
        lake.clone(),
        warehouse,
        Arc::new(FixedClock::new(utc("2025-03-20T12:00:00Z"))),
        PipelineConfig::default(),
    );

    // Tuesday 4 March 2025: an open day, 24 hourly partitions.
    let day: NaiveDate = "2025-03-04".parse().expect("date");
    let summary = pipeline
        .backfill(day, day, RunOptions::default(), &|_| {})
        .await
        .expect("backfill");
    assert_eq!(summary.total_failed(), 0, "{:?}", summary.errors);
    assert_eq!(summary.done.get(&Job::Collect), Some(&24));
    assert_eq!(summary.done.get(&Job::Ingest), Some(&24));
    assert_eq!(summary.done.get(&Job::Transform), Some(&1));
    assert_eq!(
        pipeline.warehouse.raw_counts().await.expect("raw counts"),
        (24 * 83, 24 * 10),
        "raw holds every collected row"
    );

    // Every object of the container, listed straight from it with object_store: all
    // under the prefix, one per feed and hour.
    let mut builder =
        object_store::azure::MicrosoftAzureBuilder::new().with_container_name(CONTAINER);
    for (key, value) in azurite.options() {
        builder = builder.with_config(key.parse().expect("option key"), value);
    }
    let store = builder.build().expect("azure store");
    let mut names: Vec<String> = store
        .list(None)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .expect("list the container");
    names.sort();
    let mut expected: Vec<String> = Feed::ALL
        .iter()
        .flat_map(|feed| {
            HourSlot::hours_of_day(day)
                .map(move |slot| format!("lake/{}", Lake::partition_path(*feed, slot)))
        })
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(names.contains(&"lake/visiteurs/date=2025-03-04/hour=09/data.parquet".to_string()));

    // Every object reads back (through the lake) as the simulator's rows.
    for slot in HourSlot::hours_of_day(day) {
        let (visitors, transactions) = simulate_hour(&simulator, slot);
        let v = lake
            .get(Feed::Visiteurs, slot)
            .await
            .expect("get visiteurs");
        let t = lake
            .get(Feed::Transactions, slot)
            .await
            .expect("get transactions");
        assert_eq!(
            parquet_codec::decode_visitors(v).expect("decode visiteurs"),
            visitors,
            "{slot}"
        );
        assert_eq!(
            parquet_codec::decode_transactions(t).expect("decode transactions"),
            transactions,
            "{slot}"
        );
    }

    // A missing object is reported as missing, not as a storage failure.
    let absent = HourSlot::new("2025-03-05".parse().expect("date"), 9).expect("slot");
    assert!(matches!(
        lake.get(Feed::Visiteurs, absent).await,
        Err(pipeline::lake::LakeError::Missing { .. })
    ));

    // An imported file lands in the blob container first (byte for byte, under its
    // content hash, its record beside it); the warehouse rebuilt from the container alone
    // equals the one the pipeline wrote (issue 28).
    let csv = "store_id,sensor_id,date,heure,nb_visiteurs\n1,1,2025-03-04,10:00:00,999\n\
               2,3,04/03/2025,11h00,\n1,2,2025-03-05,09:00:00,40\n";
    let file = dir.path().join("history.csv");
    std::fs::write(&file, csv).expect("write");
    let report = pipeline.import_csv(&file).await.expect("import");
    assert_eq!(report.loaded, 3);
    let kept = format!(
        "lake/{}/data.csv",
        Lake::import_dir(Feed::Visiteurs, &report.sha256)
    );
    let bytes = store
        .get(&object_store::path::Path::from(kept.as_str()))
        .await
        .expect("the imported file is in the container")
        .bytes()
        .await
        .expect("read it");
    assert_eq!(&bytes[..], csv.as_bytes());
    let before = (
        crate::transform_fingerprint::raw_fingerprint(&pipeline.warehouse).await,
        crate::transform_fingerprint::fingerprint(&pipeline.warehouse).await,
    );
    pipeline.warehouse.close().await;
    let rebuilt_wh = Warehouse::open_in_dir(&dir.path().join("db2"))
        .await
        .expect("empty sqlite warehouse");
    let rebuilt = Pipeline::new(
        simulator.clone(),
        lake.clone(),
        rebuilt_wh,
        Arc::new(FixedClock::new(utc("2025-03-20T12:00:00Z"))),
        PipelineConfig::default(),
    );
    let report = rebuilt.rebuild(false, &|_| {}).await.expect("rebuild");
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!((report.hours, report.imports), (24, 1), "{report:?}");
    let after = (
        crate::transform_fingerprint::raw_fingerprint(&rebuilt.warehouse).await,
        crate::transform_fingerprint::fingerprint(&rebuilt.warehouse).await,
    );
    assert_eq!(after, before, "rebuilt from the az:// lake");

    rebuilt.warehouse.close().await;
    drop(azurite);
}
