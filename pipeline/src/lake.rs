//! The Parquet lake, through `object_store`: a local folder by default, Azure Blob
//! Storage or S3 when configured by URL. The partition path is defined here and nowhere
//! else: `{feed}/date=YYYY-MM-DD/hour=HH/data.parquet`. Imported files are kept here too,
//! byte for byte under their content hash (`imports/<feed>/sha256=<hex>/`, see
//! [`Lake::import_dir`]): the lake is the complete landing zone, from which
//! `datamag360 rebuild` recreates the warehouse.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use url::Url;

use crate::clock::HourSlot;
use crate::records::Feed;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("invalid lake location {location:?}: {message}")]
    Config { location: String, message: String },
    #[error("lake object {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: object_store::Error,
    },
    #[error("lake object {path} does not exist")]
    Missing { path: String },
    #[error("local file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The lake's folder of imported files.
pub const IMPORTS: &str = "imports";
/// An imported file's bytes, in its [`Lake::import_dir`].
pub const IMPORT_DATA: &str = "data.csv";
/// What the import of a file recorded, in its [`Lake::import_dir`] (JSON).
pub const IMPORT_RECORD: &str = "import.json";
/// Bytes read at once when a file is copied into the lake.
const FILE_CHUNK: usize = 1024 * 1024;

/// Where collected Parquet files live.
#[derive(Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    description: String,
    /// Reached over the network (Azure, S3, or a store given by the caller).
    remote: bool,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake")
            .field("location", &self.description)
            .finish()
    }
}

impl Lake {
    /// A lake in a local folder (created if missing).
    pub fn local(dir: &Path) -> Result<Self, LakeError> {
        std::fs::create_dir_all(dir).map_err(|e| LakeError::Config {
            location: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(|e| {
            LakeError::Config {
                location: dir.display().to_string(),
                message: e.to_string(),
            }
        })?;
        Ok(Self {
            store: Arc::new(store),
            prefix: ObjectPath::default(),
            description: dir.display().to_string(),
            remote: false,
        })
    }

    /// A lake from a URL: `file:///path`, `az://container/prefix` (Azure Blob; account and
    /// key from `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, or
    /// `AZURE_STORAGE_USE_EMULATOR=true` for Azurite, whose address object_store then
    /// reads from `AZURITE_BLOB_STORAGE_URL`, default `http://127.0.0.1:10000`),
    /// `s3://bucket/prefix` (credentials from `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`). Every `AZURE_*` and
    /// `AWS_*` variable is passed, lower-cased, as an object_store option.
    pub fn from_url(location: &str) -> Result<Self, LakeError> {
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("AZURE_") || k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Self::from_url_with_options(location, env)
    }

    /// A lake from a URL with explicit object_store options (keys as object_store names
    /// them, e.g. `azure_storage_account_name`, `azure_storage_account_key`,
    /// `azure_storage_endpoint`, `azure_allow_http`, `aws_endpoint`); unknown keys are
    /// ignored. The process environment is not read here.
    pub fn from_url_with_options<I, K, V>(location: &str, options: I) -> Result<Self, LakeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        // Never echo credentials: the location as shown is the URL without its secrets.
        let shown = crate::redact::text(location);
        let config = |message: String| LakeError::Config {
            location: shown.clone(),
            message,
        };
        let url = Url::parse(location).map_err(|e| config(e.to_string()))?;
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|_| config("not a local path".into()))?;
            return Self::local(&path);
        }
        let (store, mut prefix) =
            object_store::parse_url_opts(&url, options).map_err(|e| config(e.to_string()))?;
        if url.scheme() == "az" {
            // object_store 0.12 reads `az://` as `az://account/container/path` when it
            // splits off the path (dropping its first segment), but its Azure builder takes
            // the host as the container: with `az://container/prefix` the prefix would be
            // lost and objects written at the container's root. The prefix is the path.
            prefix = ObjectPath::from_url_path(url.path()).map_err(|e| config(e.to_string()))?;
        }
        Ok(Self {
            store: Arc::from(store),
            prefix,
            description: crate::redact::url(&url).to_string(),
            remote: true,
        })
    }

    /// An arbitrary object store (tests, embedding).
    pub fn from_store(store: Arc<dyn ObjectStore>, description: &str) -> Self {
        Self {
            store,
            prefix: ObjectPath::default(),
            description: description.to_string(),
            remote: true,
        }
    }

    /// Whether the lake is reached over the network (readiness checks it then).
    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// Checks that the store answers and accepts the credentials: asks for an object
    /// that need not exist ("not found" is an answer). Needs read access only.
    pub async fn probe(&self) -> Result<(), LakeError> {
        let path = self.prefix.child(".ready");
        match self.store.head(&path).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(LakeError::Store {
                path: path.to_string(),
                source,
            }),
        }
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The object path of one feed's hour: `visiteurs/date=2025-03-14/hour=10/data.parquet`.
    pub fn partition_path(feed: Feed, slot: HourSlot) -> String {
        format!(
            "{}/date={}/hour={:02}/data.parquet",
            feed.name(),
            crate::spelling::date_text(slot.date),
            slot.hour
        )
    }

    /// The folder of an imported file's content: `imports/visiteurs/sha256=<hex>`. It
    /// holds [`IMPORT_DATA`] (the file's bytes) and, once its rows are in raw,
    /// [`IMPORT_RECORD`] (what the import recorded, see `jobs::import::LandedImport`).
    pub fn import_dir(feed: Feed, sha256: &str) -> String {
        format!("{IMPORTS}/{}/sha256={sha256}", feed.name())
    }

    /// Reads a collected partition path back: `visiteurs/date=2025-03-04/hour=09/data.parquet`
    /// gives (visiteurs, 2025-03-04 9h); anything else `None`.
    pub fn parse_partition_path(path: &str) -> Option<(Feed, HourSlot)> {
        let mut parts = path.split('/');
        let feed = match parts.next()? {
            "visiteurs" => Feed::Visiteurs,
            "transactions" => Feed::Transactions,
            _ => return None,
        };
        let date = parts.next()?.strip_prefix("date=")?.parse().ok()?;
        let hour = parts.next()?.strip_prefix("hour=")?.parse().ok()?;
        (parts.next()? == "data.parquet" && parts.next().is_none()).then_some(())?;
        let slot = HourSlot::new(date, hour)?;
        (Self::partition_path(feed, slot) == path).then_some((feed, slot))
    }

    fn full_path(&self, feed: Feed, slot: HourSlot) -> ObjectPath {
        self.object(&Self::partition_path(feed, slot))
    }

    /// The store's path of a path relative to the lake.
    fn object(&self, relative: &str) -> ObjectPath {
        let mut parts: Vec<String> = self
            .prefix
            .parts()
            .map(|p| p.as_ref().to_string())
            .collect();
        parts.extend(relative.split('/').map(str::to_string));
        ObjectPath::from_iter(parts)
    }

    /// A path of the store as a path relative to the lake (`None` outside its prefix).
    fn relative(&self, path: &ObjectPath) -> Option<String> {
        let prefix: Vec<_> = self.prefix.parts().collect();
        let parts: Vec<_> = path.parts().collect();
        if parts.len() < prefix.len() || parts[..prefix.len()] != prefix[..] {
            return None;
        }
        Some(
            parts[prefix.len()..]
                .iter()
                .map(|p| p.as_ref())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    fn store_error(path: &ObjectPath) -> impl FnOnce(object_store::Error) -> LakeError + '_ {
        move |source| match source {
            object_store::Error::NotFound { .. } => LakeError::Missing {
                path: path.to_string(),
            },
            source => LakeError::Store {
                path: path.to_string(),
                source,
            },
        }
    }

    /// Every object under `relative` (a folder, e.g. `imports`), as paths relative to the
    /// lake, sorted.
    pub async fn list(&self, relative: &str) -> Result<Vec<String>, LakeError> {
        use futures::TryStreamExt;
        let prefix = self.object(relative);
        let metas: Vec<object_store::ObjectMeta> =
            match self.store.list(Some(&prefix)).try_collect().await {
                Ok(metas) => metas,
                // Nothing was ever written under it.
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(Self::store_error(&prefix)(e)),
            };
        let mut out: Vec<String> = metas
            .iter()
            .filter_map(|m| self.relative(&m.location))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Whether an object exists.
    pub async fn exists(&self, relative: &str) -> Result<bool, LakeError> {
        let path = self.object(relative);
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(LakeError::Store {
                path: path.to_string(),
                source,
            }),
        }
    }

    /// Writes (or replaces) a small object in one atomic put.
    pub async fn put_object(&self, relative: &str, data: Bytes) -> Result<(), LakeError> {
        let path = self.object(relative);
        self.store
            .put(&path, PutPayload::from_bytes(data))
            .await
            .map(|_| ())
            .map_err(Self::store_error(&path))
    }

    /// Reads a whole (small) object.
    pub async fn get_object(&self, relative: &str) -> Result<Bytes, LakeError> {
        let path = self.object(relative);
        let result = self
            .store
            .get(&path)
            .await
            .map_err(Self::store_error(&path))?;
        result.bytes().await.map_err(Self::store_error(&path))
    }

    /// Copies a local file into the lake, streamed (a multipart upload: memory does not
    /// grow with the file). The object appears whole once the upload completes, or not at
    /// all. Returns the bytes written.
    pub async fn put_file(&self, relative: &str, local: &Path) -> Result<u64, LakeError> {
        use tokio::io::AsyncReadExt;
        let path = self.object(relative);
        let io = |e: std::io::Error| LakeError::File {
            path: local.display().to_string(),
            source: e,
        };
        let mut file = tokio::fs::File::open(local).await.map_err(io)?;
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(Self::store_error(&path))?;
        let mut writer = object_store::WriteMultipart::new(upload);
        let mut buffer = vec![0u8; FILE_CHUNK];
        let mut total = 0u64;
        loop {
            let n = match file.read(&mut buffer).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(io(e));
                }
            };
            if n == 0 {
                break;
            }
            total += n as u64;
            // At most a few parts in flight: memory stays bounded.
            if let Err(e) = writer.wait_for_capacity(4).await {
                return Err(Self::store_error(&path)(e));
            }
            writer.write(&buffer[..n]);
        }
        writer.finish().await.map_err(Self::store_error(&path))?;
        Ok(total)
    }

    /// Copies an object into a local file, streamed. Returns the bytes written.
    pub async fn download(&self, relative: &str, local: &Path) -> Result<u64, LakeError> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let path = self.object(relative);
        let io = |e: std::io::Error| LakeError::File {
            path: local.display().to_string(),
            source: e,
        };
        let result = self
            .store
            .get(&path)
            .await
            .map_err(Self::store_error(&path))?;
        let mut stream = result.into_stream();
        let mut file = tokio::fs::File::create(local).await.map_err(io)?;
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Self::store_error(&path))?;
            total += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok(total)
    }

    /// Every collected hour whose two objects (visitors and sales) are in the lake.
    pub async fn collected_hours(&self) -> Result<std::collections::BTreeSet<HourSlot>, LakeError> {
        let hours = |feed: Feed| async move {
            let found = self.list(feed.name()).await?;
            Ok::<_, LakeError>(
                found
                    .iter()
                    .filter_map(|p| Self::parse_partition_path(p))
                    .filter(|(f, _)| *f == feed)
                    .map(|(_, slot)| slot)
                    .collect::<std::collections::BTreeSet<HourSlot>>(),
            )
        };
        let (visitors, sales) =
            futures::try_join!(hours(Feed::Visiteurs), hours(Feed::Transactions))?;
        Ok(visitors.intersection(&sales).copied().collect())
    }

    /// Writes (or replaces) one partition's object. A single `put` is atomic: readers see
    /// the old object or the new one, never a part.
    pub async fn put(&self, feed: Feed, slot: HourSlot, data: Bytes) -> Result<(), LakeError> {
        let path = self.full_path(feed, slot);
        self.store
            .put(&path, PutPayload::from_bytes(data))
            .await
            .map(|_| ())
            .map_err(|source| LakeError::Store {
                path: path.to_string(),
                source,
            })
    }

    pub async fn get(&self, feed: Feed, slot: HourSlot) -> Result<Bytes, LakeError> {
        let path = self.full_path(feed, slot);
        let result = match self.store.get(&path).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(LakeError::Missing {
                    path: path.to_string(),
                })
            }
            Err(source) => {
                return Err(LakeError::Store {
                    path: path.to_string(),
                    source,
                })
            }
        };
        result.bytes().await.map_err(|source| LakeError::Store {
            path: path.to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn partition_path_is_the_original_layout() {
        let slot =
            HourSlot::new(NaiveDate::from_ymd_opt(2025, 3, 4).expect("date"), 9).expect("slot");
        assert_eq!(
            Lake::partition_path(Feed::Visiteurs, slot),
            "visiteurs/date=2025-03-04/hour=09/data.parquet"
        );
        assert_eq!(
            Lake::partition_path(Feed::Transactions, slot),
            "transactions/date=2025-03-04/hour=09/data.parquet"
        );
    }

    #[test]
    fn azure_url_keeps_its_whole_prefix() {
        let options = [
            ("azure_storage_account_name", "devstoreaccount1"),
            ("azure_storage_account_key", "a2V5"),
        ];
        let lake = Lake::from_url_with_options("az://container/lake/sub", options).expect("lake");
        assert_eq!(lake.prefix.as_ref(), "lake/sub");
        let lake = Lake::from_url_with_options("az://container/lake", options).expect("lake");
        assert_eq!(lake.prefix.as_ref(), "lake");
        let slot =
            HourSlot::new(NaiveDate::from_ymd_opt(2025, 3, 4).expect("date"), 9).expect("slot");
        assert_eq!(
            lake.full_path(Feed::Visiteurs, slot).as_ref(),
            "lake/visiteurs/date=2025-03-04/hour=09/data.parquet"
        );
        let root = Lake::from_url_with_options("az://container", options).expect("lake");
        assert_eq!(root.prefix.as_ref(), "");
        assert_eq!(root.description(), "az://container");
    }

    #[tokio::test]
    async fn local_lake_round_trip_and_missing_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = Lake::local(dir.path()).expect("lake");
        let slot =
            HourSlot::new(NaiveDate::from_ymd_opt(2025, 3, 4).expect("date"), 9).expect("slot");
        assert!(matches!(
            lake.get(Feed::Visiteurs, slot).await,
            Err(LakeError::Missing { .. })
        ));
        lake.put(Feed::Visiteurs, slot, Bytes::from_static(b"one"))
            .await
            .expect("put");
        lake.put(Feed::Visiteurs, slot, Bytes::from_static(b"two"))
            .await
            .expect("replace");
        assert_eq!(
            lake.get(Feed::Visiteurs, slot).await.expect("get"),
            Bytes::from_static(b"two")
        );
        assert!(dir
            .path()
            .join("visiteurs/date=2025-03-04/hour=09/data.parquet")
            .exists());
    }
}
