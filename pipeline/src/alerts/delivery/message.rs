//! What a delivery says: a store's digest as a readable summary (French or English, Paris
//! time) for Slack and email, and the JSON envelope of the signed webhook. Rendered from the
//! digest stored with the delivery, so every attempt sends the same message.

use chrono::{DateTime, Utc};

use crate::clock::PARIS;
use crate::lang::Lang;
use crate::warehouse::alerts::{Digest, DigestAlert};

/// A digest or a test message, ready to be worded.
pub struct Message<'a> {
    pub digest: &'a Digest,
    pub lang: Lang,
    /// The channel's name (a test message names it).
    pub channel_name: &'a str,
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&PARIS).format("%d/%m/%Y %H:%M").to_string()
}

fn figure(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

impl Message<'_> {
    pub fn is_test(&self) -> bool {
        self.digest.run.starts_with("test:")
    }

    fn store(&self) -> String {
        let l = self.lang;
        match &self.digest.store_name {
            Some(name) => format!(
                "{name} ({} {})",
                l.pick("magasin", "store"),
                self.digest.store_id
            ),
            None => format!("{} {}", l.pick("Magasin", "Store"), self.digest.store_id),
        }
    }

    /// The one-line subject: `DataMag360 — Paris (magasin 1) : 2 nouvelles alertes`.
    pub fn subject(&self) -> String {
        let l = self.lang;
        if self.is_test() {
            return format!(
                "DataMag360 — {} « {} »",
                l.pick("message de test du canal", "test message for channel"),
                self.channel_name
            );
        }
        let n = self.digest.alerts.len();
        let what = match (n, l) {
            (1, Lang::Fr) => "1 nouvelle alerte".to_string(),
            (n, Lang::Fr) => format!("{n} nouvelles alertes"),
            (1, Lang::En) => "1 new alert".to_string(),
            (n, Lang::En) => format!("{n} new alerts"),
        };
        let colon = l.pick(" :", ":");
        format!("DataMag360 — {}{colon} {what}", self.store())
    }

    fn line(&self, a: &DigestAlert) -> String {
        let l = self.lang;
        let mut s = format!("• {} ({})", a.rule.label(l), a.severity.label(l));
        if let Some(sensor) = a.sensor_id {
            s.push_str(&format!(" — {} {sensor}", l.pick("capteur", "sensor")));
        }
        match a.end {
            Some(end) => s.push_str(&format!(
                ", {} {} {} {}",
                l.pick("du", "from"),
                local(a.start),
                l.pick("au", "to"),
                local(end)
            )),
            None => s.push_str(&format!(
                ", {} {}",
                l.pick("depuis le", "since"),
                local(a.start)
            )),
        }
        match (a.observed, a.expected) {
            (Some(o), Some(e)) => s.push_str(&format!(
                " — {} {}, {} {}",
                l.pick("observé", "observed"),
                figure(o),
                l.pick("attendu", "expected"),
                figure(e)
            )),
            (Some(o), None) => s.push_str(&format!(
                " — {} {}",
                l.pick("observé", "observed"),
                figure(o)
            )),
            _ => {}
        }
        s
    }

    /// The summary: the subject, then one line per alert (times in Paris time).
    pub fn text(&self) -> String {
        let l = self.lang;
        if self.is_test() {
            return format!(
                "{}\n{}",
                self.subject(),
                l.pick(
                    "Ce canal est bien configuré : les alertes de ses magasins arriveront ici.",
                    "This channel works: its stores' alerts will arrive here."
                )
            );
        }
        let mut out = self.subject();
        for a in &self.digest.alerts {
            out.push('\n');
            out.push_str(&self.line(a));
        }
        out.push_str(&format!(
            "\n({} {}, {})",
            l.pick("détection", "detection"),
            self.digest.run.trim_start_matches("detect:"),
            l.pick("heure de Paris", "Paris time")
        ));
        out
    }

    /// The signed webhook's body: `{"type", "timestamp", "data"}` as Standard Webhooks
    /// suggests, `timestamp` being when the message was created (the same on every attempt).
    pub fn webhook_body(&self, created_at: DateTime<Utc>) -> Result<String, serde_json::Error> {
        serde_json::to_string(&serde_json::json!({
            "type": if self.is_test() { "alerts.test" } else { "alerts.digest" },
            "timestamp": created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": self.digest,
        }))
    }

    /// The Slack-compatible incoming webhook's body: `{"text": …}`.
    pub fn slack_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&serde_json::json!({ "text": self.text() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::finding::{Rule, Severity};
    use chrono::TimeZone;

    #[test]
    fn a_digest_reads_in_both_languages() {
        let digest = Digest {
            run: "detect:2025-03-14T10".into(),
            store_id: 1,
            store_name: Some("Paris".into()),
            alerts: vec![DigestAlert {
                id: 1,
                key: "sensor_silent:1:9:2025-03-14T06".into(),
                rule: Rule::SensorSilent,
                severity: Severity::Critical,
                store_id: 1,
                sensor_id: Some(9),
                start: Utc.with_ymd_and_hms(2025, 3, 14, 6, 0, 0).unwrap(),
                end: None,
                observed: Some(0.0),
                expected: Some(312.5),
            }],
        };
        let fr = Message {
            digest: &digest,
            lang: Lang::Fr,
            channel_name: "ops",
        };
        let text = fr.text();
        assert!(
            text.starts_with("DataMag360 — Paris (magasin 1) : 1 nouvelle alerte"),
            "{text}"
        );
        assert!(
            text.contains("capteur muet (critique) — capteur 9, depuis le 14/03/2025 07:00"),
            "{text}"
        );
        assert!(text.contains("observé 0, attendu 312.5"), "{text}");
        let en = Message {
            lang: Lang::En,
            ..fr
        };
        assert!(en
            .text()
            .contains("silent sensor (critical) — sensor 9, since 14/03/2025 07:00"));
        let body: serde_json::Value =
            serde_json::from_str(&en.slack_body().expect("json")).expect("parse");
        assert!(body["text"]
            .as_str()
            .is_some_and(|t| t.contains("1 new alert")));
    }
}
