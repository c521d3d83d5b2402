//! Job and ledger status names in the page's language.

use crate::i18n::Lang;

/// A job name in the page's language.
pub fn job_label(job: &str, l: Lang) -> String {
    match job {
        "collect" => l.pick("collecte", "collect"),
        "ingest" => l.pick("ingestion", "ingest"),
        "transform" => l.pick("transformation", "transform"),
        other => return other.to_string(),
    }
    .to_string()
}

/// A ledger status in the page's language.
pub fn status_label(status: &str, l: Lang) -> String {
    match status {
        "done" => l.pick("terminée", "done"),
        "failed" => l.pick("en échec", "failed"),
        "running" => l.pick("en cours", "running"),
        other => return other.to_string(),
    }
    .to_string()
}
