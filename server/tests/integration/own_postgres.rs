//! A PostgreSQL server of the test's own, on a spare port, in a temporary directory: tests
//! stop and restart it (an outage) or turn TLS on, never touching a shared server.
//! Needs the PostgreSQL server binaries (`/usr/lib/postgresql/*/bin`, or `PG_BIN`); as root
//! they run as the `postgres` user (PostgreSQL refuses root). Without them the tests skip,
//! except under CI=true where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::common::free_port;

pub struct OwnPostgres {
    // Dropped last: the server is stopped first (see Drop).
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

/// Certificates for a TLS server: a CA, and a server certificate it signed for
/// `localhost` and `127.0.0.1`.
pub struct TestCerts {
    _dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    // The newest version (directory names are major versions).
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn check(output: Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// None (the test skips) when PostgreSQL's server binaries are missing outside CI.
fn available() -> Option<PathBuf> {
    match find_bin() {
        Some(bin) => Some(bin),
        None => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true: PostgreSQL server binaries (initdb, pg_ctl) are required"
            );
            eprintln!("skipped: no PostgreSQL server binaries (set PG_BIN)");
            None
        }
    }
}

impl OwnPostgres {
    /// Creates and starts a cluster (trust authentication, 127.0.0.1 only). With `tls`,
    /// `ssl = on` and connections without TLS are refused.
    pub fn start_new(tls: Option<&TestCerts>) -> Option<Self> {
        let bin = available()?;
        let as_postgres = is_root();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let pg = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        if as_postgres {
            check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(pg.dir.path())
                    .output()
                    .expect("chown"),
                "chown",
            );
        }
        let data = pg.data();
        check(
            pg.run(
                "initdb",
                &[
                    "-D",
                    &data.to_string_lossy(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            ),
            "initdb",
        );
        let mut conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            pg.dir.path().display()
        );
        let mut hba = String::from("local all all trust\n");
        if let Some(certs) = tls {
            for (from, name) in [(&certs.cert, "server.crt"), (&certs.key, "server.key")] {
                std::fs::copy(from, data.join(name)).expect("copy certificate");
            }
            pg.give_to_postgres(&data);
            check(
                Command::new("chmod")
                    .arg("600")
                    .arg(data.join("server.key"))
                    .output()
                    .expect("chmod"),
                "chmod",
            );
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            hba.push_str(
                "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            );
        } else {
            hba.push_str("host all all 127.0.0.1/32 trust\n");
        }
        append(&data.join("postgresql.conf"), &conf);
        std::fs::write(data.join("pg_hba.conf"), hba).expect("pg_hba.conf");
        pg.give_to_postgres(&data);
        pg.start();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn give_to_postgres(&self, path: &Path) {
        if self.as_postgres {
            check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(path)
                    .output()
                    .expect("chown"),
                "chown",
            );
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("PostgreSQL tool runs")
    }

    pub fn start(&self) {
        let log = self.dir.path().join("server.log");
        check(
            self.run(
                "pg_ctl",
                &[
                    "start",
                    "-D",
                    &self.data().to_string_lossy(),
                    "-l",
                    &log.to_string_lossy(),
                    "-w",
                    "-t",
                    "60",
                ],
            ),
            "pg_ctl start",
        );
    }

    pub fn stop(&self) {
        check(
            self.run(
                "pg_ctl",
                &[
                    "stop",
                    "-D",
                    &self.data().to_string_lossy(),
                    "-m",
                    "fast",
                    "-w",
                ],
            ),
            "pg_ctl stop",
        );
    }

    /// `postgres://postgres@HOST:PORT/postgres?PARAMS`.
    pub fn url(&self, host: &str, params: &str) -> String {
        let mut url = format!("postgres://postgres@{host}:{}/postgres", self.port);
        if !params.is_empty() {
            url.push('?');
            url.push_str(params);
        }
        url
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &[
                "stop",
                "-D",
                &self.data().to_string_lossy(),
                "-m",
                "immediate",
                "-w",
            ],
        );
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open config");
    f.write_all(text.as_bytes()).expect("write config");
}

impl TestCerts {
    /// A CA and a server certificate (P-256) made with the `openssl` command line.
    /// None when openssl is missing outside CI.
    pub fn generate() -> Option<Self> {
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true: the openssl command line is required"
            );
            eprintln!("skipped: no openssl command line");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
             keyUsage = critical, digitalSignature, keyEncipherment\n\
             extendedKeyUsage = serverAuth\n",
        )
        .expect("ext file");
        let openssl = |args: &[&str]| {
            check(
                Command::new("openssl")
                    .args(args)
                    .output()
                    .expect("openssl runs"),
                &format!("openssl {}", args.join(" ")),
            )
        };
        // `openssl req` options for a new unencrypted P-256 key, written to the next path.
        const NEW_P256_KEY: [&str; 6] = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &NEW_P256_KEY,
                &[&p("ca.key"), "-out", &p("ca.crt"), "-days", "2"],
                &["-subj", "/CN=DataMag360 test CA"],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &NEW_P256_KEY,
                &[&p("server.key"), "-out", &p("server.csr")],
                &["-subj", "/CN=localhost"],
            ]
            .concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.crt"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p("server.crt"),
            "-days",
            "2",
            "-extfile",
            &p("server.ext"),
        ]);
        Some(Self {
            ca: dir.path().join("ca.crt"),
            cert: dir.path().join("server.crt"),
            key: dir.path().join("server.key"),
            _dir: dir,
        })
    }
}
