//! Email alerts through a real SMTP server the test starts: Python's aiosmtpd (installed by
//! `scripts/setup.sh` into `$DATAMAG_TOOLS/py`, `DATAMAG_PYTHON`), STARTTLS required with a
//! certificate from a CA the test makes with the `openssl` command, AUTH after TLS only.
//! A wrong password fails visibly and is retried; the right one delivers the digest.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pipeline::access::{AccessMode, Role, StoreScope, Viewer};
use pipeline::alerts::channel::{ChannelKind, DeliveryStatus, NewChannel};
use pipeline::alerts::delivery::email::SmtpConfig;
use pipeline::alerts::delivery::{Deliverer, DeliveryConfig};
use pipeline::alerts::finding::{Finding, Rule, Severity};
use pipeline::ledger::Partition;
use pipeline::warehouse::alerts::Actor;
use pipeline::HourSlot;

use crate::common::{d, envs, utc};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e} (run scripts/setup.sh)"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it: (CA PEM path, cert, key).
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=DataMag360 test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

struct SmtpServer {
    child: std::process::Child,
    port: u16,
    output: std::path::PathBuf,
}

impl SmtpServer {
    fn start(dir: &Path) -> SmtpServer {
        let python = std::env::var("DATAMAG_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/smtp_server.py");
        let output = dir.join("received.jsonl");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .arg("alertes")
            .arg("mot-de-passe-smtp")
            .arg(&output)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e} (run scripts/setup.sh)"));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start ({line:?}): is aiosmtpd installed in {python}? (scripts/setup.sh)"));
        SmtpServer {
            child,
            port,
            output,
        }
    }

    fn received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.output)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp(server: &SmtpServer, dir: &Path, password: &str) -> Deliverer {
    Deliverer::new(DeliveryConfig {
        retry_base: Duration::from_secs(60),
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: server.port,
            user: Some("alertes".into()),
            password: Some(password.into()),
            from: "DataMag360 <alertes@datamag360.test>".into(),
            extra_ca_pem: Some(std::fs::read(dir.join("ca.pem")).expect("ca")),
        }),
        ..DeliveryConfig::default()
    })
    .expect("deliverer")
}

#[tokio::test]
async fn email_digests_go_through_a_real_smtp_server_with_starttls() {
    let dir = tempfile::tempdir().expect("tempdir");
    certificates(dir.path());
    let server = SmtpServer::start(dir.path());
    let admin = Viewer {
        name: Some("ada".into()),
        role: Role::Admin,
        scope: StoreScope::All,
        mode: AccessMode::SignedIn,
    };
    let actor = Actor {
        viewer: &admin,
        address: "",
    };
    let mut expected = 0;
    for env in envs(utc("2025-03-14T10:30:00Z")).await {
        let w = &env.pipeline.warehouse;
        let now = env.pipeline.clock.now();
        w.create_channel(
            &NewChannel {
                name: "Lyon par e-mail".into(),
                kind: ChannelKind::Email,
                target: "lea@magasin.test".into(),
                secret: None,
                scope: StoreScope::of(Role::Manager, [2]),
                lang: "fr".into(),
            },
            actor,
            now,
        )
        .await
        .expect("channel");
        let findings = [
            Finding {
                rule: Rule::SensorSilent,
                severity: Severity::Critical,
                store_id: 2,
                sensor_id: Some(4),
                start: utc("2025-03-14T06:00:00Z"),
                end: None,
                observed: Some(0.0),
                expected: Some(96.0),
            },
            // Another store: not for this channel.
            Finding {
                rule: Rule::SensorSilent,
                severity: Severity::Critical,
                store_id: 1,
                sensor_id: Some(4),
                start: utc("2025-03-14T06:00:00Z"),
                end: None,
                observed: None,
                expected: None,
            },
        ];
        let wrong = env
            .pipeline
            .clone()
            .with_delivery(smtp(&server, dir.path(), "faux"));
        wrong
            .record_detection(
                Partition::Hour(HourSlot::new(d("2025-03-14"), 10).expect("slot")),
                &findings,
            )
            .await
            .expect("apply");
        let report = wrong.deliver_alerts().await.expect("deliver");
        assert_eq!((report.sent, report.retrying), (0, 1), "{}", env.label);
        let pending = w.deliveries(None, 5, actor).await.expect("deliveries");
        assert_eq!(pending[0].status, DeliveryStatus::Pending);
        assert!(
            pending[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("SMTP")),
            "{:?}",
            pending[0].last_error
        );
        assert_eq!(
            server.received().len(),
            expected,
            "nothing accepted without the password"
        );

        env.clock.advance(chrono::Duration::seconds(60));
        let right =
            env.pipeline
                .clone()
                .with_delivery(smtp(&server, dir.path(), "mot-de-passe-smtp"));
        let report = right.deliver_alerts().await.expect("deliver");
        assert_eq!(report.sent, 1, "{}: {report:?}", env.label);
        expected += 1;
        let got = server.received();
        assert_eq!(got.len(), expected);
        let mail = &got[expected - 1];
        assert_eq!(mail["tls"], true, "STARTTLS was used");
        assert_eq!(mail["authenticated"], true);
        assert_eq!(mail["mail_from"], "alertes@datamag360.test");
        assert_eq!(mail["rcpt_tos"][0], "lea@magasin.test");
        assert_eq!(
            mail["subject"],
            "DataMag360 — Lyon (magasin 2) : 1 nouvelle alerte"
        );
        let body = mail["body"].as_str().expect("body");
        assert!(
            body.contains("capteur muet (critique) — capteur 4, depuis le 14/03/2025 07:00"),
            "{body}"
        );
        assert!(!body.contains("magasin 1"), "{body}");
        assert!(mail["message_id"]
            .as_str()
            .is_some_and(|m| m.starts_with("<msg_") && m.ends_with("@datamag360.test>")));
        env.close().await;
    }
}
