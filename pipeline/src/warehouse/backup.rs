//! Online backup and restore of a SQLite warehouse.
//!
//! The SQLite warehouse is three database files (`warehouse.db` with the ledger, settings,
//! accounts, sessions and audit log; `warehouse-raw.db`; `warehouse-analytics.db`), each in
//! WAL mode (so with its `-wal` and `-shm` companions). A backup copies all three **at one
//! point in time** while a server reads and writes them:
//!
//! 1. a second connection takes the write lock of the three files for an instant
//!    (`BEGIN IMMEDIATE` locks every attached database), waiting for the write in progress;
//! 2. meanwhile the copying connection opens one read transaction on each file: three
//!    snapshots of the same instant (WAL readers see the database as of their start);
//! 3. the write lock is released (writers go on, readers were never stopped), and SQLite's
//!    online backup API copies each file's pages from those snapshots (`sqlite3_backup_step`
//!    over the connection's open read transaction), committed WAL frames included.
//!
//! The three copies go into one file: a header line, a JSON manifest (each file's name,
//! size and SHA-256), then the files' bytes. It is written under a temporary name in the
//! destination's folder, flushed to disk and then renamed, so an interrupted backup leaves
//! no file under the name asked for, and a truncated or altered file fails its manifest.
//! `restore` checks sizes and hashes, then `PRAGMA integrity_check` on the three copies
//! attached together, before it replaces anything, and refuses while a server or another
//! process has the warehouse open.
//!
//! Every table is in the copy, whatever wrote it: the pipeline's, the accounts, sessions
//! and audit log, and any table a later migration adds.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, DatabaseName, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::companion;

/// The first line of a backup file.
pub const MAGIC: &str = "DATAMAG360-SQLITE-BACKUP 1";
/// The schemas, in the order their files follow the manifest.
const SCHEMAS: [&str; 3] = ["main", "raw", "analytics"];
/// How long the backup waits for a writer to finish before it takes its snapshot.
const WRITE_WAIT: Duration = Duration::from_secs(60);
/// Bytes read at once while hashing and copying.
const CHUNK: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no SQLite warehouse at {}", .0.display())]
    NotFound(PathBuf),
    #[error(
        "{} is in use ({what}): stop the server (and any backfill or import) before a restore",
        path.display()
    )]
    InUse { path: PathBuf, what: String },
    #[error("{} is not a whole DataMag360 backup: {reason}", path.display())]
    Damaged { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One database file in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFile {
    /// `main`, `raw` or `analytics`.
    pub schema: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a backup file holds (its second line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub created_at: DateTime<Utc>,
    pub sqlite_version: String,
    pub files: Vec<BackupFile>,
}

/// The SQLite files of the warehouse whose main file is `main`, by schema.
fn files_of(main: &Path) -> [(&'static str, PathBuf); 3] {
    [
        ("main", main.to_path_buf()),
        ("raw", companion(main, "raw")),
        ("analytics", companion(main, "analytics")),
    ]
}

/// A connection to the warehouse with its two companions attached.
fn open_attached(main: &Path, flags: OpenFlags) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(main, flags)?;
    conn.busy_timeout(WRITE_WAIT)?;
    for (schema, path) in files_of(main).into_iter().skip(1) {
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {schema}"),
            [path.to_string_lossy().into_owned()],
        )?;
    }
    Ok(conn)
}

/// A folder beside `near`, removed with what it holds when dropped.
struct Staging(PathBuf);

impl Staging {
    fn beside(near: &Path, what: &str) -> Result<Self, BackupError> {
        let name = near
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "warehouse".into());
        let dir = near.with_file_name(format!(".{name}.{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Self(dir))
    }

    fn file(&self, schema: &str) -> PathBuf {
        self.0.join(format!("{schema}.db"))
    }
}

/// Removes what killed backups to `to` left beside it (`.NAME.partial-PID` folders whose
/// process is gone). Linux only, where `/proc` tells which processes live.
fn remove_stale_staging(to: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (Some(dir), Some(name)) = (to.parent(), to.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.partial-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let alive = pid.parse::<u32>().is_ok_and(|pid| {
            pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
        });
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sha256_of(path: &Path) -> Result<(String, u64), BackupError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Flushes a directory's entries (a rename in it) to disk.
fn sync_dir(path: &Path) -> Result<(), BackupError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Copies the three files of the warehouse at `main` into `staging`, at one instant.
fn snapshot(main: &Path, staging: &Staging) -> Result<(), BackupError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let source = open_attached(main, flags)?;
    let writers = open_attached(main, flags)?;
    // Writers wait for an instant while the three read snapshots are taken together.
    writers.execute_batch("BEGIN IMMEDIATE")?;
    let taken = (|| {
        source.execute_batch("BEGIN")?;
        for schema in SCHEMAS {
            source.query_row(
                &format!("SELECT COUNT(*) FROM {schema}.sqlite_master"),
                [],
                |row| row.get::<_, i64>(0),
            )?;
        }
        Ok::<_, rusqlite::Error>(())
    })();
    writers.execute_batch("ROLLBACK")?;
    taken?;
    for schema in SCHEMAS {
        let mut target = Connection::open(staging.file(schema))?;
        let backup = Backup::new_with_names(
            &source,
            match schema {
                "main" => DatabaseName::Main,
                other => DatabaseName::Attached(other),
            },
            &mut target,
            DatabaseName::Main,
        )?;
        // All pages in one step, inside the read transaction opened above.
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                // More pages, or a lock in the way for a moment: step again.
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
    source.execute_batch("COMMIT")?;
    Ok(())
}

/// Backs up the SQLite warehouse whose main file is `main` into the file `to` (see the
/// module documentation). Blocking: call it from a blocking thread.
pub fn backup_sqlite(main: &Path, to: &Path) -> Result<Manifest, BackupError> {
    for (_, path) in files_of(main) {
        if !path.exists() {
            return Err(BackupError::NotFound(path));
        }
    }
    remove_stale_staging(to);
    let staging = Staging::beside(to, "partial")?;
    snapshot(main, &staging)?;
    let mut files = Vec::new();
    for schema in SCHEMAS {
        let (sha256, bytes) = sha256_of(&staging.file(schema))?;
        files.push(BackupFile {
            schema: schema.to_string(),
            bytes,
            sha256,
        });
    }
    let manifest = Manifest {
        created_at: Utc::now(),
        sqlite_version: rusqlite::version().to_string(),
        files,
    };
    let partial = staging.0.join("backup");
    {
        let mut out =
            std::io::BufWriter::with_capacity(CHUNK, File::create(&partial).map_err(io(&partial))?);
        let json = serde_json::to_string(&manifest).map_err(|e| BackupError::Io {
            path: partial.clone(),
            source: std::io::Error::other(e),
        })?;
        writeln!(out, "{MAGIC}\n{json}").map_err(io(&partial))?;
        for schema in SCHEMAS {
            let path = staging.file(schema);
            let mut input = File::open(&path).map_err(io(&path))?;
            std::io::copy(&mut input, &mut out).map_err(io(&partial))?;
        }
        let file = out.into_inner().map_err(|e| BackupError::Io {
            path: partial.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io(&partial))?;
    }
    std::fs::rename(&partial, to).map_err(io(to))?;
    sync_dir(to)?;
    Ok(manifest)
}

/// Whether `path` is the file a backup writes before renaming it into place
/// (`.NAME.partial-PID/backup`, see [`backup_sqlite`]).
fn is_staging_copy(path: &Path) -> bool {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    path.file_name().is_some_and(|n| n == "backup")
        && folder.is_some_and(|f| f.starts_with('.') && f.contains(".partial-"))
}

/// Reads and checks a backup file: the header, the manifest, and each file's size and
/// SHA-256, copying the files into `staging`. Nothing else is touched.
fn unpack(from: &Path, staging: &Staging) -> Result<Manifest, BackupError> {
    let damaged = |reason: String| BackupError::Damaged {
        path: from.to_path_buf(),
        reason,
    };
    // A killed backup leaves its staging copy beside the target (`.NAME.partial-PID/backup`),
    // complete or not: it never counts as a backup, even when killed between the last
    // write and the rename that would have made it one.
    if is_staging_copy(from) {
        return Err(damaged(
            "this is an interrupted backup's staging copy, not a backup: take the backup again"
                .to_string(),
        ));
    }
    let mut input = BufReader::with_capacity(CHUNK, File::open(from).map_err(io(from))?);
    let mut line = String::new();
    input.read_line(&mut line).map_err(io(from))?;
    if line.trim_end() != MAGIC {
        return Err(damaged("it does not start with the backup header".into()));
    }
    line.clear();
    input.read_line(&mut line).map_err(io(from))?;
    let manifest: Manifest =
        serde_json::from_str(line.trim_end()).map_err(|e| damaged(format!("manifest: {e}")))?;
    let schemas: Vec<&str> = manifest.files.iter().map(|f| f.schema.as_str()).collect();
    if schemas != SCHEMAS {
        return Err(damaged(format!(
            "it holds {schemas:?}, expected {SCHEMAS:?}"
        )));
    }
    let mut buffer = vec![0u8; CHUNK];
    for file in &manifest.files {
        let path = staging.file(&file.schema);
        let mut out = File::create(&path).map_err(io(&path))?;
        let mut hasher = Sha256::new();
        let mut left = file.bytes;
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            let n = input.read(&mut buffer[..want]).map_err(io(from))?;
            if n == 0 {
                return Err(damaged(format!(
                    "{} ends {left} bytes early (an interrupted copy?)",
                    file.schema
                )));
            }
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n]).map_err(io(&path))?;
            left -= n as u64;
        }
        out.sync_all().map_err(io(&path))?;
        let sha256 = hex::encode(hasher.finalize());
        if sha256 != file.sha256 {
            return Err(damaged(format!(
                "{}'s SHA-256 is {sha256}, the manifest says {}",
                file.schema, file.sha256
            )));
        }
    }
    if input.read(&mut buffer[..1]).map_err(io(from))? != 0 {
        return Err(damaged("bytes follow the last file".into()));
    }
    Ok(manifest)
}

/// `PRAGMA integrity_check` on the three files attached together: `Ok` when SQLite says
/// "ok", else the problems it lists.
pub fn integrity_check(main: &Path) -> Result<Result<(), String>, BackupError> {
    let conn = open_attached(main, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let mut statement = conn.prepare("PRAGMA integrity_check")?;
    let lines: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if lines == ["ok"] {
        Ok(Ok(()))
    } else {
        Ok(Err(lines.join("; ")))
    }
}

/// Checks a backup file without restoring it (sizes, hashes, integrity).
pub fn verify_backup(from: &Path) -> Result<Manifest, BackupError> {
    let staging = Staging::beside(from, "verify")?;
    let manifest = unpack(from, &staging)?;
    check_unpacked(from, &staging)?;
    Ok(manifest)
}

/// The unpacked copies, attached together, pass `PRAGMA integrity_check`.
fn check_unpacked(from: &Path, staging: &Staging) -> Result<(), BackupError> {
    // The copies are named as the warehouse names its companions.
    let main = staging.0.join("warehouse.db");
    for (schema, path) in files_of(&main) {
        std::fs::rename(staging.file(schema), &path).map_err(io(&path))?;
    }
    let checked = integrity_check(&main)?;
    for (schema, path) in files_of(&main) {
        std::fs::rename(&path, staging.file(schema)).map_err(io(&path))?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(with_suffix(&path, suffix));
        }
    }
    checked.map_err(|problems| BackupError::Damaged {
        path: from.to_path_buf(),
        reason: format!("integrity check: {problems}"),
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The lock file a serving process holds (shared) on the warehouse at `main`.
fn serve_lock_path(main: &Path) -> PathBuf {
    with_suffix(main, ".serve.lock")
}

/// Held by a process serving the SQLite warehouse at `main` for as long as it lives: a
/// restore refuses to run while any process holds it.
pub fn hold_serving_lock(main: &Path) -> Result<File, BackupError> {
    let path = serve_lock_path(main);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    file.lock_shared().map_err(io(&path))?;
    Ok(file)
}

/// Refuses when a process has the warehouse open: a server (its serve lock), or any
/// SQLite connection (an exclusive lock on a WAL database is refused while another
/// connection has it open).
fn ensure_unused(main: &Path) -> Result<Option<File>, BackupError> {
    let lock_path = serve_lock_path(main);
    let lock = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
    {
        Ok(file) => match file.try_lock() {
            Ok(()) => Some(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(BackupError::InUse {
                    path: main.to_path_buf(),
                    what: "a server holds it".into(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        },
        // No lock file can be made: the folder is missing (nothing to replace yet).
        Err(_) => None,
    };
    for (_, path) in files_of(main) {
        if !path.exists() {
            continue;
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(Duration::ZERO)?;
        let exclusive = (|| {
            conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE")?;
            conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })?;
            conn.execute_batch("COMMIT")
        })();
        match exclusive {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                return Err(BackupError::InUse {
                    path: path.clone(),
                    what: "another connection has it open".into(),
                });
            }
            // Not a database any more (what a restore is for): it will be replaced.
            _ => {}
        }
    }
    Ok(lock)
}

/// Restores the backup file `from` as the SQLite warehouse at `main`, on a stopped
/// server: checks the file whole (sizes, SHA-256, `PRAGMA integrity_check`) before it
/// replaces anything, then puts the three files in place (their stale `-wal`/`-shm`
/// removed first). Blocking: call it from a blocking thread.
pub fn restore_sqlite(from: &Path, main: &Path) -> Result<Manifest, BackupError> {
    if let Some(parent) = main.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let _lock = ensure_unused(main)?;
    let staging = Staging::beside(main, "restore")?;
    let manifest = unpack(from, &staging)?;
    check_unpacked(from, &staging)?;
    for (schema, path) in files_of(main) {
        // A stale write-ahead log would be replayed onto the restored file.
        for suffix in ["-wal", "-shm"] {
            let stale = with_suffix(&path, suffix);
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&stale)(e)),
            }
        }
        std::fs::rename(staging.file(schema), &path).map_err(io(&path))?;
    }
    sync_dir(main)?;
    Ok(manifest)
}
