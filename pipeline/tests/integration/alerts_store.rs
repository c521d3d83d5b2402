//! The alerts store (issue 26): lifecycle from detection runs' findings (idempotent,
//! resolution), acknowledgements and silences within a person's stores, digests per store
//! and run, signed webhooks verified by a receiver the test starts, retries, and two
//! replicas sending each digest once. On SQLite and PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use pipeline::access::{AccessMode, Role, StoreScope, Viewer};
use pipeline::alerts::channel::{ChannelKind, DeliveryStatus, NewChannel};
use pipeline::alerts::delivery::{Deliverer, DeliveryConfig};
use pipeline::alerts::finding::{Finding, Rule, Severity};
use pipeline::alerts::lifecycle::{AlertQuery, AlertStatus};
use pipeline::alerts::silence::{NewSilence, Recurrence};
use pipeline::ledger::Partition;
use pipeline::warehouse::alerts::{Actor, AlertError};
use pipeline::{HourSlot, Pipeline, PipelineConfig, Warehouse};

use crate::common::{d, envs, utc};
use crate::receiver::{Receiver, Request};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Friday 2025-03-14, 10:30 UTC (11:30 Paris): the hour 10h Paris (09–10 UTC) is fresh.
const NOW: &str = "2025-03-14T10:30:00Z";

fn admin() -> Viewer {
    Viewer {
        name: Some("ada".into()),
        role: Role::Admin,
        scope: StoreScope::All,
        mode: AccessMode::SignedIn,
    }
}

fn manager(name: &str, stores: &[u32]) -> Viewer {
    Viewer {
        name: Some(name.into()),
        role: Role::Manager,
        scope: StoreScope::of(Role::Manager, stores.iter().copied()),
        mode: AccessMode::SignedIn,
    }
}

fn actor(viewer: &Viewer) -> Actor<'_> {
    Actor {
        viewer,
        address: "192.0.2.7",
    }
}

fn hour(date: &str, h: u32) -> Partition {
    Partition::Hour(HourSlot::new(d(date), h).expect("slot"))
}

fn finding(rule: Rule, store: i64, sensor: Option<i64>, start: &str) -> Finding {
    Finding {
        rule,
        severity: Severity::Warning,
        store_id: store,
        sensor_id: sensor,
        start: utc(start),
        end: None,
        observed: Some(0.0),
        expected: Some(120.0),
    }
}

fn ended(mut f: Finding, end: &str) -> Finding {
    f.end = Some(utc(end));
    f
}

async fn all_alerts(w: &Warehouse) -> Vec<pipeline::alerts::lifecycle::Alert> {
    let mut v = w
        .alerts(&AlertQuery::default(), &StoreScope::All)
        .await
        .expect("alerts");
    v.sort_by_key(|a| a.id);
    v
}

fn webhook(name: &str, url: &str, scope: StoreScope) -> NewChannel {
    NewChannel {
        name: name.into(),
        kind: ChannelKind::Webhook,
        target: url.into(),
        secret: Some(SECRET.into()),
        scope,
        lang: "fr".into(),
    }
}

/// Checks a request's Standard Webhooks signature with ring's HMAC (not the sender's code).
fn verify_signature(r: &Request) -> serde_json::Value {
    assert_eq!(r.path, "/hook");
    let id = r.headers.get("webhook-id").expect("webhook-id");
    let timestamp = r
        .headers
        .get("webhook-timestamp")
        .expect("webhook-timestamp");
    let signature = r
        .headers
        .get("webhook-signature")
        .expect("webhook-signature");
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .expect("key");
    let signed = format!("{id}.{timestamp}.{}", r.body);
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
        signed.as_bytes(),
    );
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    );
    assert!(
        signature.split(' ').any(|s| s == expected),
        "signature {signature} != {expected}"
    );
    // A tampered body does not verify.
    let forged = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
        format!("{id}.{timestamp}.{}x", r.body).as_bytes(),
    );
    assert_ne!(
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(forged.as_ref())
        ),
        *signature
    );
    serde_json::from_str(&r.body).expect("JSON body")
}

fn with_retry_base(p: &Pipeline, base: Duration, max_attempts: i64) -> Pipeline {
    p.clone().with_delivery(
        Deliverer::new(DeliveryConfig {
            max_attempts,
            retry_base: base,
            ..DeliveryConfig::default()
        })
        .expect("deliverer"),
    )
}

#[tokio::test]
async fn alerts_open_once_refresh_and_resolve_idempotently() {
    for env in envs(utc(NOW)).await {
        let p = &env.pipeline;
        let w = &p.warehouse;
        let a = finding(Rule::SensorSilent, 1, Some(9), "2025-03-14T06:00:00Z");
        let b = finding(Rule::SensorStuckZero, 2, Some(3), "2025-03-14T07:00:00Z");
        let applied = p
            .record_detection(hour("2025-03-14", 10), &[a.clone(), b.clone()])
            .await
            .expect("apply");
        assert_eq!((applied.opened, applied.resolved), (2, 0), "{}", env.label);
        let first = all_alerts(w).await;
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|x| x.status == AlertStatus::Open));
        assert_eq!(first[0].key, a.dedupe_key());
        assert_eq!(first[0].opened_run, "detect:2025-03-14T10");
        assert_eq!(first[0].last_seen, utc("2025-03-14T10:00:00Z"));

        // The same partition again: nothing changes.
        let again = p
            .record_detection(hour("2025-03-14", 10), &[a.clone(), b.clone()])
            .await
            .expect("apply");
        assert_eq!((again.opened, again.refreshed, again.resolved), (0, 2, 0));
        assert_eq!(
            all_alerts(w).await,
            first,
            "{}: a re-run changes nothing",
            env.label
        );

        // The next hour finds only `a`: `b` is resolved at that hour's end.
        let next = p
            .record_detection(hour("2025-03-14", 11), std::slice::from_ref(&a))
            .await
            .expect("apply");
        assert_eq!((next.opened, next.resolved), (0, 1));
        let after = all_alerts(w).await;
        assert_eq!(after[1].status, AlertStatus::Resolved);
        assert_eq!(after[1].resolved_at, Some(utc("2025-03-14T11:00:00Z")));
        assert_eq!(after[0].status, AlertStatus::Open);
        assert_eq!(after[0].last_seen, utc("2025-03-14T11:00:00Z"));

        // An older partition run again neither reopens `b` nor moves `a` back.
        p.record_detection(hour("2025-03-14", 10), &[a.clone(), b.clone()])
            .await
            .expect("apply");
        assert_eq!(all_alerts(w).await, after, "{}", env.label);

        // A nightly run (anomaly rules) does not resolve data-health alerts.
        p.record_detection(Partition::Day(d("2025-03-13")), &[])
            .await
            .expect("apply");
        assert_eq!(all_alerts(w).await, after);

        // `a` found with an end: resolved then.
        let done = p
            .record_detection(
                hour("2025-03-14", 12),
                &[ended(a.clone(), "2025-03-14T11:00:00Z")],
            )
            .await
            .expect("apply");
        assert_eq!((done.opened, done.resolved), (0, 1));
        let last = all_alerts(w).await;
        assert_eq!(last.len(), 2, "history kept, never duplicated");
        assert!(last.iter().all(|x| x.status == AlertStatus::Resolved));
        assert_eq!(last[0].end, Some(utc("2025-03-14T11:00:00Z")));
        assert_eq!(
            w.open_alert_count(&StoreScope::All).await.expect("count"),
            0
        );
        env.close().await;
    }
}

#[tokio::test]
async fn acknowledgements_and_counts_stay_within_the_persons_stores() {
    for env in envs(utc(NOW)).await {
        let p = &env.pipeline;
        let w = &p.warehouse;
        let event = finding(Rule::TrafficHigh, 3, None, "2025-03-13T08:00:00Z");
        let silent = finding(Rule::SensorSilent, 1, Some(2), "2025-03-14T06:00:00Z");
        p.record_detection(Partition::Day(d("2025-03-13")), &[event])
            .await
            .expect("apply");
        p.record_detection(hour("2025-03-14", 10), &[silent])
            .await
            .expect("apply");
        let lea = manager("lea", &[3]);
        let tom = manager("tom", &[1]);
        assert_eq!(w.open_alert_count(&StoreScope::All).await.expect("n"), 2);
        assert_eq!(w.open_alert_count(&lea.scope).await.expect("n"), 1);
        assert_eq!(
            w.open_alert_count(&StoreScope::Only(Default::default()))
                .await
                .expect("n"),
            0
        );
        let of_lea = w
            .alerts(&AlertQuery::default(), &lea.scope)
            .await
            .expect("alerts");
        assert_eq!(of_lea.len(), 1);
        assert_eq!(of_lea[0].store_id, 3);
        let id = of_lea[0].id;

        let now = utc(NOW);
        match w.acknowledge_alert(id, actor(&tom), "not mine", now).await {
            Err(AlertError::Forbidden(f)) => assert_eq!(f.store_id, 3),
            other => panic!("{}: {other:?}", env.label),
        }
        let acked = w
            .acknowledge_alert(id, actor(&lea), "  braderie du centre commercial ", now)
            .await
            .expect("ack");
        assert_eq!(acked.status, AlertStatus::Acknowledged);
        let ack = acked.acknowledgement.expect("ack recorded");
        assert_eq!(
            (ack.by.as_str(), ack.comment.as_str()),
            ("lea", "braderie du centre commercial")
        );
        assert!(matches!(
            w.acknowledge_alert(id, actor(&lea), "again", now).await,
            Err(AlertError::AlreadyAcknowledged(_))
        ));
        assert_eq!(w.open_alert_count(&lea.scope).await.expect("n"), 0);
        let filtered = w
            .alerts(
                &AlertQuery {
                    status: Some(AlertStatus::Acknowledged),
                    ..AlertQuery::default()
                },
                &tom.scope,
            )
            .await
            .expect("alerts");
        assert!(filtered.is_empty(), "tom does not see store 3");
        // The next nightly run no longer finds the event: resolved, acknowledgement kept.
        p.record_detection(Partition::Day(d("2025-03-14")), &[])
            .await
            .expect("apply");
        let resolved = w.alert(id, &lea.scope).await.expect("get").expect("alert");
        assert_eq!(resolved.status, AlertStatus::Resolved);
        assert!(resolved.acknowledgement.is_some());
        let audit = w.audit_log(20).await.expect("audit");
        assert!(
            audit.iter().any(|e| e.action == "alert acknowledged"
                && e.username == "lea"
                && e.address == "192.0.2.7"),
            "{audit:?}"
        );
        env.close().await;
    }
}

#[tokio::test]
async fn digests_reach_their_stores_signed_and_a_silence_holds_back_delivery() {
    for env in envs(utc(NOW)).await {
        let p = &env.pipeline;
        let w = &p.warehouse;
        let now = utc(NOW);
        let hook = Receiver::start(&[200]).await;
        let slack = Receiver::start(&[200]).await;
        let ada = admin();
        w.create_channel(
            &webhook("ops", &hook.url, StoreScope::All),
            actor(&ada),
            now,
        )
        .await
        .expect("webhook channel");
        w.create_channel(
            &NewChannel {
                name: "Lyon".into(),
                kind: ChannelKind::Slack,
                target: slack.url.clone(),
                secret: None,
                scope: StoreScope::of(Role::Manager, [2]),
                lang: "en".into(),
            },
            actor(&ada),
            now,
        )
        .await
        .expect("slack channel");
        // Store 1 is closed for works all day: its manager silences it.
        let tom = manager("tom", &[1]);
        let silence = w
            .create_silence(
                &NewSilence {
                    store_id: Some(1),
                    sensor_id: None,
                    start: utc("2025-03-14T00:00:00Z"),
                    end: utc("2025-03-15T00:00:00Z"),
                    recurrence: None,
                    reason: "travaux".into(),
                },
                actor(&tom),
                now,
            )
            .await
            .expect("silence");
        assert!(matches!(
            w.create_silence(
                &NewSilence {
                    store_id: Some(2),
                    sensor_id: None,
                    start: now,
                    end: utc("2025-03-15T00:00:00Z"),
                    recurrence: None,
                    reason: String::new(),
                },
                actor(&tom),
                now
            )
            .await,
            Err(AlertError::Forbidden(_))
        ));
        assert!(matches!(
            w.create_silence(
                &NewSilence {
                    store_id: None,
                    sensor_id: None,
                    start: now,
                    end: utc("2025-03-15T00:00:00Z"),
                    recurrence: Some(Recurrence::new([2], 13, 20)),
                    reason: String::new(),
                },
                actor(&tom),
                now
            )
            .await,
            Err(AlertError::NotAllowed(_))
        ));
        let findings = [
            finding(Rule::SensorSilent, 1, Some(9), "2025-03-14T06:00:00Z"),
            finding(Rule::SensorStuckZero, 2, Some(3), "2025-03-14T07:00:00Z"),
            finding(Rule::SensorSilent, 2, Some(4), "2025-03-14T06:00:00Z"),
        ];
        let applied = p
            .record_detection(hour("2025-03-14", 10), &findings)
            .await
            .expect("apply");
        assert_eq!((applied.opened, applied.silenced), (3, 1), "{}", env.label);
        let report = p.deliver_alerts().await.expect("deliver");
        assert_eq!((report.sent, report.retrying, report.failed), (2, 0, 0));

        // The webhook: one digest, store 2's two alerts, signed.
        let got = hook.requests();
        assert_eq!(got.len(), 1, "{}: one digest per store and run", env.label);
        let body = verify_signature(&got[0]);
        assert_eq!(body["type"], "alerts.digest");
        assert_eq!(body["data"]["store_id"], 2);
        assert_eq!(body["data"]["store_name"], "Lyon");
        assert_eq!(body["data"]["alerts"].as_array().map(Vec::len), Some(2));
        let stamp: i64 = got[0].headers["webhook-timestamp"]
            .parse()
            .expect("seconds");
        assert_eq!(stamp, now.timestamp());
        // Slack: {"text": …} in the channel's language.
        let s = slack.requests();
        assert_eq!(s.len(), 1);
        let text: serde_json::Value = serde_json::from_str(&s[0].body).expect("json");
        let text = text["text"].as_str().expect("text");
        assert!(text.contains("Lyon (store 2): 2 new alerts"), "{text}");
        assert!(text.contains("sensor stuck at zero"), "{text}");

        // Store 1's alert is kept, marked with the silence, and was never sent.
        let store1 = w
            .alerts(
                &AlertQuery {
                    store_id: Some(1),
                    ..AlertQuery::default()
                },
                &StoreScope::All,
            )
            .await
            .expect("alerts");
        assert_eq!(store1.len(), 1);
        assert_eq!(store1[0].silence_id, Some(silence.id));
        assert!(!got[0].body.contains("\"store_id\":1,"));

        // Re-running the partition and delivering again sends nothing more.
        p.record_detection(hour("2025-03-14", 10), &findings)
            .await
            .expect("apply");
        let report = p.deliver_alerts().await.expect("deliver");
        assert_eq!(report.sent, 0);
        assert_eq!(hook.requests().len(), 1);

        // Lifted, the silence no longer holds back a new alert of store 1.
        w.lift_silence(silence.id, actor(&tom), utc("2025-03-14T10:40:00Z"))
            .await
            .expect("lift");
        env.clock.set(utc("2025-03-14T12:30:00Z"));
        let later = [finding(
            Rule::SensorSilent,
            1,
            Some(5),
            "2025-03-14T11:00:00Z",
        )];
        let applied = p
            .record_detection(hour("2025-03-14", 12), &later)
            .await
            .expect("apply");
        assert_eq!((applied.opened, applied.silenced), (1, 0));
        p.deliver_alerts().await.expect("deliver");
        let got = hook.requests();
        assert_eq!(got.len(), 2);
        assert_eq!(verify_signature(&got[1])["data"]["store_id"], 1);
        let audit = w.audit_log(50).await.expect("audit");
        for action in [
            "alert channel added",
            "alert silence added",
            "alert silence lifted",
        ] {
            assert!(
                audit.iter().any(|e| e.action == action),
                "{action}: {audit:?}"
            );
        }
        assert!(
            audit.iter().all(|e| !e.detail.contains("LaLaSw")),
            "the secret never reaches the audit log"
        );
        env.close().await;
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_backoff_then_visible() {
    for env in envs(utc(NOW)).await {
        let p = with_retry_base(&env.pipeline, Duration::from_secs(60), 3);
        let w = &p.warehouse;
        let now = utc(NOW);
        let flaky = Receiver::start(&[500, 200]).await;
        let ada = admin();
        w.create_channel(
            &webhook("flaky", &flaky.url, StoreScope::All),
            actor(&ada),
            now,
        )
        .await
        .expect("channel");
        let f = [finding(
            Rule::SensorSilent,
            4,
            Some(1),
            "2025-03-14T06:00:00Z",
        )];
        p.record_detection(hour("2025-03-14", 10), &f)
            .await
            .expect("apply");
        let first = p.deliver_alerts().await.expect("deliver");
        assert_eq!((first.sent, first.retrying), (0, 1), "{}", env.label);
        let d = w
            .deliveries(None, 10, actor(&ada))
            .await
            .expect("deliveries");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].status, DeliveryStatus::Pending);
        assert_eq!(d[0].attempts, 1);
        assert!(
            d[0].last_error
                .as_deref()
                .is_some_and(|e| e.contains("HTTP 500")),
            "{:?}",
            d[0].last_error
        );
        assert_eq!(d[0].next_attempt_at, now + chrono::Duration::seconds(60));
        // Not due yet: nothing is sent.
        assert_eq!(p.deliver_alerts().await.expect("deliver").sent, 0);
        assert_eq!(flaky.requests().len(), 1);
        // A minute later (a restart in between changes nothing: the queue is stored).
        env.clock.set(now + chrono::Duration::seconds(60));
        let restarted = with_retry_base(&env.pipeline, Duration::from_secs(60), 3);
        assert_eq!(restarted.deliver_alerts().await.expect("deliver").sent, 1);
        let got = flaky.requests();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
        assert_eq!(
            got[0].body, got[1].body,
            "the same message on every attempt"
        );
        verify_signature(&got[1]);
        let d = w
            .deliveries(None, 10, actor(&ada))
            .await
            .expect("deliveries");
        assert_eq!((d[0].status, d[0].attempts), (DeliveryStatus::Sent, 2));
        assert_eq!(d[0].last_error, None);

        // A receiver that always fails: out of attempts, the delivery shows as failed.
        let down = Receiver::start(&[503]).await;
        let quick = with_retry_base(&env.pipeline, Duration::from_secs(1), 2);
        let down_channel = w
            .create_channel(
                &webhook("down", &down.url, StoreScope::All),
                actor(&ada),
                now,
            )
            .await
            .expect("channel");
        env.clock.set(utc("2025-03-14T11:30:00Z"));
        quick
            .record_detection(
                hour("2025-03-14", 11),
                &[finding(
                    Rule::SensorSilent,
                    5,
                    Some(1),
                    "2025-03-14T07:00:00Z",
                )],
            )
            .await
            .expect("apply");
        quick.deliver_alerts().await.expect("deliver");
        env.clock.set(utc("2025-03-14T11:30:05Z"));
        let last = quick.deliver_alerts().await.expect("deliver");
        assert_eq!(last.failed, 1, "{last:?}");
        let failed = w
            .deliveries(Some(DeliveryStatus::Failed), 10, actor(&ada))
            .await
            .expect("deliveries");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].channel_id, down_channel.id);
        assert!(failed[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")));
        assert_eq!(down.requests().len(), 2);
        // Retried by hand, it is due again.
        w.retry_delivery(failed[0].id, actor(&ada), utc("2025-03-14T11:31:00Z"))
            .await
            .expect("retry");
        env.clock.set(utc("2025-03-14T11:31:00Z"));
        assert_eq!(quick.deliver_alerts().await.expect("deliver").retrying, 1);
        env.close().await;
    }
}

#[tokio::test]
async fn two_replicas_open_and_send_each_alert_once() {
    for env in envs(utc(NOW)).await {
        let hook = Receiver::start(&[200]).await;
        let ada = admin();
        let now = utc(NOW);
        env.pipeline
            .warehouse
            .create_channel(
                &webhook("ops", &hook.url, StoreScope::All),
                actor(&ada),
                now,
            )
            .await
            .expect("channel");
        let other = Warehouse::connect(&env.database_url)
            .await
            .expect("second pool");
        let one = env.pipeline.clone();
        let two = Pipeline::new(
            one.simulator.clone(),
            one.lake.clone(),
            other,
            Arc::new(env.clock.clone()),
            PipelineConfig::default(),
        );
        let findings: Vec<Finding> = (1..=6)
            .map(|store| finding(Rule::SensorSilent, store, Some(1), "2025-03-14T06:00:00Z"))
            .collect();
        let partition = hour("2025-03-14", 10);
        let (a, b) = tokio::join!(
            one.record_detection(partition, &findings),
            two.record_detection(partition, &findings)
        );
        let (a, b) = (a.expect("one"), b.expect("two"));
        assert_eq!(a.opened + b.opened, 6, "{}: {a:?} {b:?}", env.label);
        let (x, y) = tokio::join!(one.deliver_alerts(), two.deliver_alerts());
        let (x, y) = (x.expect("one"), y.expect("two"));
        assert_eq!(x.sent + y.sent, 6, "{}: {x:?} {y:?}", env.label);
        let got = hook.requests();
        let ids: HashSet<&String> = got.iter().map(|r| &r.headers["webhook-id"]).collect();
        assert_eq!((got.len(), ids.len()), (6, 6), "{}", env.label);
        assert_eq!(all_alerts(&one.warehouse).await.len(), 6);
        two.warehouse.close().await;
        env.close().await;
    }
}

#[tokio::test]
async fn channels_are_for_admins_secrets_stay_hidden_and_a_test_is_sent() {
    for env in envs(utc(NOW)).await {
        let w = &env.pipeline.warehouse;
        let now = utc(NOW);
        let hook = Receiver::start(&[200]).await;
        let ada = admin();
        let lea = manager("lea", &[3]);
        assert!(matches!(
            w.create_channel(&webhook("x", &hook.url, StoreScope::All), actor(&lea), now)
                .await,
            Err(AlertError::NotAllowed(_))
        ));
        let mut bad = webhook("x", &hook.url, StoreScope::All);
        bad.secret = Some("not-a-secret".into());
        assert!(matches!(
            w.create_channel(&bad, actor(&ada), now).await,
            Err(AlertError::Invalid(_))
        ));
        let mut bad = webhook("x", "ftp://example.com/", StoreScope::All);
        bad.secret = Some(SECRET.into());
        assert!(matches!(
            w.create_channel(&bad, actor(&ada), now).await,
            Err(AlertError::Invalid(_))
        ));
        let c = w
            .create_channel(
                &webhook("Ops", &hook.url, StoreScope::All),
                actor(&ada),
                now,
            )
            .await
            .expect("channel");
        assert!(matches!(
            w.create_channel(
                &webhook("ops", &hook.url, StoreScope::All),
                actor(&ada),
                now
            )
            .await,
            Err(AlertError::Taken(_))
        ));
        let listed = w.channels(actor(&ada)).await.expect("channels");
        assert_eq!(listed.len(), 1);
        let hint = listed[0].secret_hint.as_deref().expect("hint");
        assert!(
            hint.starts_with("whsec_") && !hint.contains("LaLaSw"),
            "{hint}"
        );
        assert!(w.channels(actor(&lea)).await.is_err());

        let deliverer = env.pipeline.delivery.clone().expect("deliverer");
        let sent = deliverer
            .send_test(w, c.id, actor(&ada), now)
            .await
            .expect("test");
        assert_eq!(sent.status, DeliveryStatus::Sent, "{sent:?}");
        assert!(sent.is_test());
        let got = hook.requests();
        assert_eq!(got.len(), 1);
        assert_eq!(verify_signature(&got[0])["type"], "alerts.test");

        // Disabled, it receives no digest; removed, its deliveries go with it.
        w.set_channel_enabled(c.id, false, actor(&ada), now)
            .await
            .expect("disable");
        env.pipeline
            .record_detection(
                hour("2025-03-14", 10),
                &[finding(
                    Rule::SensorSilent,
                    1,
                    Some(1),
                    "2025-03-14T06:00:00Z",
                )],
            )
            .await
            .expect("apply");
        assert_eq!(
            env.pipeline.deliver_alerts().await.expect("deliver").sent,
            0
        );
        w.delete_channel(c.id, actor(&ada), now)
            .await
            .expect("delete");
        assert!(w.channels(actor(&ada)).await.expect("channels").is_empty());
        assert!(w
            .deliveries(None, 10, actor(&ada))
            .await
            .expect("deliveries")
            .is_empty());
        env.close().await;
    }
}

/// A run about data older than a day records its alerts without sending them.
#[tokio::test]
async fn catching_up_on_old_hours_sends_nothing() {
    for env in envs(utc(NOW)).await {
        let hook = Receiver::start(&[200]).await;
        let ada = admin();
        let w = &env.pipeline.warehouse;
        w.create_channel(
            &webhook("ops", &hook.url, StoreScope::All),
            actor(&ada),
            utc(NOW),
        )
        .await
        .expect("channel");
        let applied = env
            .pipeline
            .record_detection(
                hour("2025-03-12", 10),
                &[finding(
                    Rule::SensorSilent,
                    1,
                    Some(1),
                    "2025-03-12T06:00:00Z",
                )],
            )
            .await
            .expect("apply");
        assert_eq!(applied.opened, 1);
        assert_eq!(
            env.pipeline.deliver_alerts().await.expect("deliver").sent,
            0
        );
        assert!(hook.requests().is_empty());
        env.close().await;
    }
}

/// The detection job in the ledger: one `detect` partition per ingested hour and per
/// transformed day, and a forced re-run of the same days changes no alert.
#[tokio::test]
async fn the_detection_job_runs_per_partition_and_a_rerun_changes_nothing() {
    use pipeline::jobs::reconcile::RunOptions;
    use pipeline::runs::{Job, RunStatus};
    for env in envs(utc(NOW)).await {
        let summary = env.backfill_ok(d("2025-03-11"), d("2025-03-12")).await;
        assert_eq!(
            summary.done.get(&Job::Detect),
            Some(&(2 * 24 + 2)),
            "{}: {summary:?}",
            env.label
        );
        let w = &env.pipeline.warehouse;
        let detect = w
            .ledger_states(Job::Detect, d("2025-03-11"), d("2025-03-12"))
            .await
            .expect("ledger");
        assert_eq!(detect.len(), 50);
        assert!(detect.values().all(|s| s.status == RunStatus::Done));
        assert!(detect.contains_key("2025-03-11T10") && detect.contains_key("2025-03-12"));
        let before = all_alerts(w).await;
        // Nothing due: a plain run runs no detection again.
        let again = env.backfill_ok(d("2025-03-11"), d("2025-03-12")).await;
        assert_eq!(again.done.get(&Job::Detect), None, "{again:?}");
        let forced = env
            .pipeline
            .backfill(
                d("2025-03-11"),
                d("2025-03-12"),
                RunOptions {
                    force: true,
                    retry_failed: false,
                },
                &crate::common::quiet,
            )
            .await
            .expect("forced");
        assert_eq!(forced.done.get(&Job::Detect), Some(&50));
        assert_eq!(
            all_alerts(w).await,
            before,
            "{}: a re-run changes nothing",
            env.label
        );
        eprintln!("{}: {} alert(s) over two days", env.label, before.len());
        env.close().await;
    }
}
