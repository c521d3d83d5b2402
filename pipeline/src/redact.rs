//! Credentials never reach a message or a log: one redaction for every URL that may hold
//! them (database, lake, HTTP source). It keeps the safest of the behaviours the crate
//! had: user name and password dropped, the values of the query replaced (API keys,
//! `password=`, `sslkey=`), its parameter names kept; a text that does not parse as a URL
//! loses anything before its last `@` and everything after its first `?`.

use url::Url;

/// What replaces each query value.
pub const REDACTED: &str = "REDACTED";

/// `url` without user, password nor the values of its query.
pub fn url(url: &Url) -> Url {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    if clean.query().is_some() {
        let keys: Vec<String> = clean.query_pairs().map(|(k, _)| k.into_owned()).collect();
        clean.set_query(None);
        if !keys.is_empty() {
            let mut query = clean.query_pairs_mut();
            for k in keys {
                query.append_pair(&k, REDACTED);
            }
        }
    }
    clean
}

/// A URL given as text, redacted as [`url`] does; a text that is no URL loses anything
/// before its last `@` (after the scheme) and its query.
pub fn text(text: &str) -> String {
    match Url::parse(text) {
        Ok(u) => url(&u).to_string(),
        Err(_) => {
            let text = text.split_once('?').map_or(text, |(before, _)| before);
            match (text.find("://"), text.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}{}", &text[..scheme + 3], &text[at + 1..])
                }
                _ => text.to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credentials_survive() {
        let shown = text("postgres://app:s3cret@db:5432/dm?sslmode=require&password=p4ss");
        assert_eq!(
            shown,
            "postgres://db:5432/dm?sslmode=REDACTED&password=REDACTED"
        );
        assert_eq!(
            text("https://user@host/api?code=k3y"),
            "https://host/api?code=REDACTED"
        );
        assert_eq!(text("az://container/lake"), "az://container/lake");
        assert_eq!(
            text("sqlite://data/warehouse.db"),
            "sqlite://data/warehouse.db"
        );
        assert_eq!(
            text("http://user:pw@ho st/"),
            "http://ho st/",
            "unparsable URLs lose their credentials too"
        );
        assert_eq!(
            text("postgres://u:pw@ho st/db?key=k3y"),
            "postgres://ho st/db"
        );
    }
}
