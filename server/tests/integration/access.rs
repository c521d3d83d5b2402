//! Who sees what, through the real binary: a public address with no account shows no
//! figure and its one-time set-up link works once; a manager's export holds only their
//! stores and another store answers 403 without its figures; sign-in failures lock; a
//! cross-site form is refused; a session opened on one replica is accepted by another on
//! the same PostgreSQL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{free_port, serve_command, Reply, Server, TempDatabase, BIN};

const PERIOD: &str = "from=2025-03-10&to=2025-03-11";
const PASSWORD: &str = "a long enough password";

/// One HTTP/1.1 request with these headers and body.
fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let response = String::from_utf8_lossy(&response);
    let (headers, body) = response.split_once("\r\n\r\n").expect("a response");
    Reply {
        status: headers
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status"),
        headers: headers.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A same-site form POST (as the sign-in page sends it), with an optional cookie.
fn post_form(port: u16, path: &str, pairs: &[(&str, &str)], cookie: Option<&str>) -> Reply {
    let origin = format!("http://127.0.0.1:{port}");
    let cookie = cookie.map(|c| format!("dm360_session={c}"));
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", origin.as_str()),
    ];
    if let Some(c) = &cookie {
        headers.push(("Cookie", c.as_str()));
    }
    send(port, "POST", path, &headers, &form(pairs))
}

fn get_with(port: u16, path: &str, cookie: Option<&str>) -> Reply {
    let cookie = cookie.map(|c| format!("dm360_session={c}"));
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("Cookie", c.as_str())).collect();
    send(port, "GET", path, &headers, "")
}

fn location(r: &Reply) -> String {
    r.headers
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap_or_default()
        .to_string()
}

/// The session cookie a response sets (`None` if it sets none or clears it).
fn session_cookie(r: &Reply) -> Option<String> {
    r.headers
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: dm360_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .find(|v| !v.is_empty())
}

fn sign_in(port: u16, user: &str, password: &str) -> Reply {
    post_form(
        port,
        "/login",
        &[
            ("username", user),
            ("password", password),
            ("next", "/dashboard"),
        ],
        None,
    )
}

/// `datamag360 <args>` with these variables; panics unless it succeeds.
fn cli(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("cli starts");
    if let Some(mut s) = child.stdin.take() {
        s.write_all(stdin.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("cli ends");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn backfill(envs: &[(&str, &str)]) {
    cli(
        &["backfill", "--from", "2025-03-10", "--to", "2025-03-11"],
        envs,
        "",
    );
}

fn add_user(envs: &[(&str, &str)], name: &str, role: &str, stores: &str) {
    cli(
        &[
            "user",
            "add",
            name,
            "--role",
            role,
            "--manages",
            stores,
            "--password-stdin",
        ],
        envs,
        &format!("{PASSWORD}\n"),
    );
}

/// The store ids of an export's data rows (chunk-size lines have no commas).
fn export_stores(body: &str) -> Vec<u32> {
    body.lines()
        .filter(|l| l.matches(',').count() >= 7 && !l.starts_with("date,"))
        .filter_map(|l| l.split(',').nth(2)?.parse().ok())
        .collect()
}

fn serve(data: &Path, host: &str, extra: &[(&str, &str)]) -> (Server, mpsc::Receiver<String>) {
    let port = free_port();
    let mut cmd = serve_command(port);
    cmd.env("DATAMAG_DATA_DIR", data)
        .env("DATAMAG_NO_SCHEDULER", "1")
        .env("HOST", host)
        .stdout(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut server = Server::start(cmd, port, Duration::from_secs(60));
    let (tx, rx) = mpsc::channel();
    if let Some(out) = server.child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    (server, rx)
}

#[test]
fn a_public_address_without_accounts_shows_nothing_until_the_setup_link_is_used_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().to_string();
    let envs = [("DATAMAG_DATA_DIR", data.as_str())];
    backfill(&envs);
    let (s, log) = serve(dir.path(), "0.0.0.0", &[]);
    let link = log
        .iter()
        .take(50)
        .find_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("setup_url=").map(String::from))
        })
        .expect("the set-up link in the log");
    let token = link.split("token=").nth(1).expect("token").to_string();

    // No figure for an anonymous visitor, whichever way they ask.
    let page = get_with(s.port, "/dashboard", None);
    assert_eq!(page.status, 303, "{}", page.headers);
    assert!(location(&page).starts_with("/login"));
    let export = get_with(s.port, &format!("/export.csv?{PERIOD}"), None);
    assert_eq!(export.status, 401, "{}", export.body);
    assert!(export.body.contains("setup_required"), "{}", export.body);
    assert!(export_stores(&export.body).is_empty());
    let origin = format!("http://127.0.0.1:{}", s.port);
    let call = send(
        s.port,
        "POST",
        "/api/dashboard",
        &[("Content-Type", "application/json"), ("Origin", &origin)],
        r#"{"query":{"store":null,"sensors":[],"from":"2025-03-10","to":"2025-03-11","h0":null,"h1":null,"cmp":null,"sensors_for":null,"lang":"fr"}}"#,
    );
    assert_eq!(call.status, 401, "{}", call.body);
    assert_eq!(get_with(s.port, "/pipeline", None).status, 303);
    // The simulator API stays public.
    assert_eq!(
        get_with(
            s.port,
            "/visiteurs?city_store=Paris&date=2025-03-10&heure=10",
            None
        )
        .status,
        200
    );

    // A wrong token does nothing; the right one creates the first admin, once.
    let bad = post_form(
        s.port,
        "/setup",
        &[
            ("token", "0000"),
            ("username", "root"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ],
        None,
    );
    assert!(location(&bad).contains("error=link"), "{}", bad.headers);
    let setup = |name: &str| {
        post_form(
            s.port,
            "/setup",
            &[
                ("token", token.as_str()),
                ("username", name),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
            None,
        )
    };
    let first = setup("chief");
    assert_eq!(first.status, 303, "{}", first.headers);
    assert_eq!(location(&first), "/dashboard");
    let cookie = session_cookie(&first).expect("signed in");
    assert!(first.headers.contains("httponly") && first.headers.contains("samesite=lax"));
    let again = setup("intruder");
    assert!(location(&again).contains("error=link"), "{}", again.headers);
    assert!(session_cookie(&again).is_none());

    let export = get_with(s.port, &format!("/export.csv?{PERIOD}"), Some(&cookie));
    assert_eq!(export.status, 200, "{}", export.body);
    assert_eq!(
        export_stores(&export.body)
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        10,
        "the admin sees every store"
    );
    let users = cli(&["user", "list"], &envs, "");
    assert!(
        users.contains("chief") && !users.contains("intruder"),
        "{users}"
    );
}

#[test]
fn a_manager_sees_only_their_stores_and_failed_sign_ins_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().to_string();
    let envs = [("DATAMAG_DATA_DIR", data.as_str())];
    backfill(&envs);
    add_user(&envs, "lea", "manager", "Paris,Lyon");
    add_user(&envs, "sam", "analyst", "");
    let (s, _log) = serve(dir.path(), "127.0.0.1", &[]);

    // Accounts exist: loopback is no longer open.
    assert_eq!(
        get_with(s.port, &format!("/export.csv?{PERIOD}"), None).status,
        401
    );
    let wrong = sign_in(s.port, "lea", "not the password");
    assert!(
        location(&wrong).contains("error=invalid"),
        "{}",
        wrong.headers
    );
    assert!(session_cookie(&wrong).is_none());
    let ok = sign_in(s.port, "LEA", PASSWORD);
    assert_eq!(location(&ok), "/dashboard", "{}", ok.headers);
    let lea = session_cookie(&ok).expect("a session");

    let export = get_with(s.port, &format!("/export.csv?{PERIOD}"), Some(&lea));
    assert_eq!(export.status, 200, "{}", export.body);
    let stores = export_stores(&export.body);
    assert!(!stores.is_empty());
    assert!(stores.iter().all(|s| [1, 2].contains(s)), "{stores:?}");
    // Marseille (3): 403, with no figure of it.
    let other = get_with(s.port, &format!("/export.csv?{PERIOD}&store=3"), Some(&lea));
    assert_eq!(other.status, 403, "{}", other.body);
    assert!(other.body.contains("forbidden_store"), "{}", other.body);
    assert!(export_stores(&other.body).is_empty() && !other.body.contains("Marseille"));
    // The pipeline page is the whole chain's: not for a manager.
    assert_eq!(get_with(s.port, "/pipeline", Some(&lea)).status, 403);

    // A cross-site form is refused, signed in or not.
    let forged = send(
        s.port,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://evil.example"),
        ],
        &form(&[("username", "sam"), ("password", PASSWORD)]),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    let forged_logout = send(
        s.port,
        "POST",
        "/logout",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://evil.example"),
            ("Cookie", &format!("dm360_session={lea}")),
        ],
        "",
    );
    assert_eq!(forged_logout.status, 403);

    // Five failures are free, the sixth locks: even the right password waits.
    for _ in 0..5 {
        let r = sign_in(s.port, "sam", "wrong password!");
        assert!(location(&r).contains("error=invalid"), "{}", r.headers);
    }
    let locked = sign_in(s.port, "sam", "wrong password!");
    assert!(
        location(&locked).contains("error=locked"),
        "{}",
        locked.headers
    );
    assert!(location(&locked).contains("wait=30"), "{}", locked.headers);
    let still = sign_in(s.port, "sam", PASSWORD);
    assert!(
        location(&still).contains("error=locked"),
        "{}",
        still.headers
    );
    assert!(session_cookie(&still).is_none());

    // Sign-out ends the session on the server, not only in the browser.
    let out = post_form(s.port, "/logout", &[], Some(&lea));
    assert_eq!(out.status, 303);
    assert!(out.headers.contains("max-age=0"), "{}", out.headers);
    assert_eq!(
        get_with(s.port, &format!("/export.csv?{PERIOD}"), Some(&lea)).status,
        401
    );
    // A personal token carries its owner's scope.
    let token = cli(
        &["user", "token", "lea", "--label", "excel", "--days", "5"],
        &envs,
        "",
    );
    let token = token.trim();
    let by_token = get_with(
        s.port,
        &format!("/export.csv?{PERIOD}&access_token={token}"),
        None,
    );
    assert_eq!(by_token.status, 200, "{}", by_token.body);
    assert!(export_stores(&by_token.body)
        .iter()
        .all(|s| [1, 2].contains(s)));
    let refused = get_with(
        s.port,
        &format!("/export.csv?{PERIOD}&store=3&access_token={token}"),
        None,
    );
    assert_eq!(refused.status, 403);
    cli(&["user", "disable", "lea"], &envs, "");
    assert_eq!(
        get_with(
            s.port,
            &format!("/export.csv?{PERIOD}&access_token={token}"),
            None
        )
        .status,
        401,
        "a disabled account's token stops at once"
    );
}

#[test]
fn a_session_opened_on_one_replica_is_accepted_by_another_on_the_same_postgresql() {
    let Some(database) = TempDatabase::create("dm_sessions", "shared-session test") else {
        return;
    };
    let db_url = database.url.clone();
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let lake = format!("file://{}", dirs[0].path().join("lake").display());
    let data0 = dirs[0].path().to_string_lossy().to_string();
    let envs = [
        ("DATAMAG_DATA_DIR", data0.as_str()),
        ("DATABASE_URL", db_url.as_str()),
        ("DATAMAG_LAKE_URL", lake.as_str()),
    ];
    backfill(&envs);
    add_user(&envs, "lea", "manager", "1,2");
    let extra = [
        ("DATABASE_URL", db_url.as_str()),
        ("DATAMAG_LAKE_URL", lake.as_str()),
    ];
    let (a, _la) = serve(dirs[0].path(), "127.0.0.1", &extra);
    let (b, _lb) = serve(dirs[1].path(), "127.0.0.1", &extra);
    let cookie = session_cookie(&sign_in(a.port, "lea", PASSWORD)).expect("signed in on A");
    let on_b = get_with(b.port, &format!("/export.csv?{PERIOD}"), Some(&cookie));
    assert_eq!(on_b.status, 200, "{}", on_b.body);
    assert!(export_stores(&on_b.body).iter().all(|s| [1, 2].contains(s)));
    // Signed out on B: refused on A too.
    post_form(b.port, "/logout", &[], Some(&cookie));
    assert_eq!(
        get_with(a.port, &format!("/export.csv?{PERIOD}"), Some(&cookie)).status,
        401
    );
    drop((a, b));
    drop(database);
}

/// The `Set-Cookie` line of a response for `name`, if any.
fn set_cookie<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.headers
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find(|l| l.starts_with(&format!("{name}=")))
}

/// The audit log's (action, detail, address) lines, oldest first, read from the SQLite
/// warehouse of `data` (independent of the server).
fn audit_lines(data: &Path) -> Vec<(String, String, String)> {
    let url = format!("sqlite://{}?mode=ro", data.join("warehouse.db").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("warehouse");
            let rows = sqlx::query_as("SELECT action, detail, address FROM auth_audit ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("audit log");
            pool.close().await;
            rows
        })
}

#[test]
fn single_sign_on_explains_an_unreachable_provider_and_refuses_what_it_did_not_begin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().to_string();
    let envs = [("DATAMAG_DATA_DIR", data.as_str())];
    backfill(&envs);
    add_user(&envs, "ana", "admin", "");
    // A provider that is down (nothing listens there): the server still starts, password
    // sign-in works, and the SSO button's start explains the outage.
    let issuer = format!("http://127.0.0.1:{}", free_port());
    let public = "http://127.0.0.1:1";
    let sso = [
        ("DATAMAG_OIDC_ISSUER", issuer.as_str()),
        ("DATAMAG_OIDC_CLIENT_ID", "datamag360"),
        ("DATAMAG_PUBLIC_URL", public),
    ];
    let (s, _log) = serve(dir.path(), "127.0.0.1", &sso);
    assert!(session_cookie(&sign_in(s.port, "ana", PASSWORD)).is_some());
    let start = get_with(s.port, "/auth/oidc/start?lang=en", None);
    assert_eq!(start.status, 303, "{}", start.headers);
    assert_eq!(location(&start), "/login?error=sso_unreachable&lang=en");
    // A callback this server did not begin: refused, the state cookie cleared.
    let forged = get_with(
        s.port,
        "/auth/oidc/callback?code=abc&state=never-issued",
        None,
    );
    assert_eq!(location(&forged), "/login?error=sso_state");
    assert!(
        set_cookie(&forged, "dm360_sso").is_some_and(|c| c.contains("max-age=0")),
        "{}",
        forged.headers
    );
    assert!(session_cookie(&forged).is_none());
    // The provider said no: explained, with its code when it is not a plain refusal.
    let denied = get_with(s.port, "/auth/oidc/callback?error=access_denied", None);
    assert_eq!(location(&denied), "/login?error=sso_denied");
    let other = get_with(
        s.port,
        "/auth/oidc/callback?error=temporarily_unavailable&error=x&state=",
        None,
    );
    assert_eq!(
        location(&other),
        "/login?error=sso_provider&detail=temporarily_unavailable"
    );
    drop(s);
    let audit = audit_lines(dir.path());
    let failed: Vec<&str> = audit
        .iter()
        .filter(|(action, _, _)| action == "sign-in failed")
        .map(|(_, detail, _)| detail.as_str())
        .collect();
    assert_eq!(failed.len(), 4, "{audit:?}");
    assert!(failed[0].contains("unreachable"), "{failed:?}");
    assert!(failed[1].contains("already used"), "{failed:?}");
    assert!(failed[2].contains("access_denied"), "{failed:?}");
    assert!(audit
        .iter()
        .filter(|(a, _, _)| a == "sign-in failed")
        .all(|(_, _, address)| address == "127.0.0.1"));

    // Without SSO configured, the start says so.
    let (plain, _l) = serve(dir.path(), "127.0.0.1", &[]);
    let off = get_with(plain.port, "/auth/oidc/start", None);
    assert_eq!(location(&off), "/login?error=sso_off");
    drop(plain);

    // A partial configuration stops the start, naming what is missing.
    let mut child = Command::new(BIN)
        .args(["serve", "--port", &free_port().to_string()])
        .env("DATAMAG_DATA_DIR", &data)
        .env("DATAMAG_NO_SCHEDULER", "1")
        .env("DATAMAG_OIDC_ISSUER", &issuer)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve runs");
    let mut waited = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if waited > 600 {
            let _ = child.kill();
            panic!("a partial SSO configuration did not stop the start");
        }
        waited += 1;
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success());
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(err.contains("DATAMAG_OIDC_CLIENT_ID"), "{err}");
}
