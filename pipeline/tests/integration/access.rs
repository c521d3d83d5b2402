//! Access on both backends: a manager's scope reaches every query path (KPIs, series,
//! ranking, heat map, hourly view, comparison, export) and equals the sum of their stores
//! taken one by one; accounts, sessions, tokens, throttling and the set-up link as stored;
//! single sign-on's pending sign-ins (single use) and accounts linked by issuer and subject.

use std::collections::BTreeSet;

use pipeline::access::{Forbidden, Role, StoreScope};
use pipeline::filter::{resolve_scoped, DashboardQuery, ScopedError};
use pipeline::kpi::{Comparison, Totals};
use pipeline::warehouse::accounts::{AccountChange, AccountError, Failures};
use pipeline::warehouse::sso::{PendingSso, SsoAccount};

use crate::common::{d, envs, export, utc};

fn query(store: Option<u32>, from: &str, to: &str) -> DashboardQuery {
    DashboardQuery {
        store,
        from: Some(from.into()),
        to: Some(to.into()),
        ..DashboardQuery::default()
    }
}

fn add(a: &mut Totals, b: &Totals) {
    a.visitors += b.visitors;
    a.store_visitors += b.store_visitors;
    a.active_sensors += b.active_sensors;
    a.transactions += b.transactions;
    a.revenue += b.revenue;
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

#[tokio::test]
async fn a_managers_all_stores_are_their_stores_on_every_query_path() {
    let now = utc("2025-03-20T12:00:00Z");
    let mine: BTreeSet<u32> = [1, 3].into_iter().collect();
    let scope = StoreScope::Only(mine.clone());
    for env in envs(now).await {
        let w = &env.pipeline.warehouse;
        let reference = env.pipeline.simulator.reference();
        env.backfill_ok(d("2025-02-24"), d("2025-03-16")).await;
        for (from, to) in [
            ("2025-03-03", "2025-03-16"),
            ("2025-03-12", "2025-03-12"),
            ("2025-02-24", "2025-03-16"),
        ] {
            let label = format!("{} {from}..{to}", env.label);
            let all_mine = resolve_scoped(&query(None, from, to), reference, now, &scope)
                .expect("all of theirs");
            assert_eq!(all_mine.within_stores, Some(vec![1, 3]), "{label}");
            let cmp = all_mine.compared(Comparison::Previous);
            let (figures, previous) = w
                .dashboard_with_comparison(&all_mine, cmp.as_ref())
                .await
                .expect("figures");
            // The same figures, store by store, unscoped.
            let mut expected = Totals::default();
            let mut expected_prev = Totals::default();
            let mut by_date_hour = std::collections::BTreeMap::new();
            let mut rows_one_by_one = 0usize;
            for store in &mine {
                let one = resolve_scoped(
                    &query(Some(*store), from, to),
                    reference,
                    now,
                    &StoreScope::All,
                )
                .expect("one store");
                let f = w.dashboard_figures(&one).await.expect("one");
                add(&mut expected, &f.totals);
                for (k, s) in f.by_date_hour {
                    let e: &mut (i64, i64, i64) = by_date_hour.entry(k).or_default();
                    *e = (
                        e.0 + s.visitors,
                        e.1 + s.transactions,
                        e.2 + s.revenue_cents,
                    );
                }
                if let Some(c) = one.compared(Comparison::Previous) {
                    add(
                        &mut expected_prev,
                        &w.period_totals(&c).await.expect("prev"),
                    );
                }
                rows_one_by_one += export(w, &one).await.0.len();
            }
            let t = figures.totals;
            assert_eq!(
                (
                    t.visitors,
                    t.store_visitors,
                    t.active_sensors,
                    t.transactions,
                    cents(t.revenue)
                ),
                (
                    expected.visitors,
                    expected.store_visitors,
                    expected.active_sensors,
                    expected.transactions,
                    cents(expected.revenue)
                ),
                "{label}: KPIs"
            );
            assert!(t.visitors > 0, "{label}: data to compare");
            let scoped: std::collections::BTreeMap<_, _> = figures
                .by_date_hour
                .iter()
                .map(|(k, s)| (*k, (s.visitors, s.transactions, s.revenue_cents)))
                .collect();
            assert_eq!(scoped, by_date_hour, "{label}: heat map and hourly sums");
            let keys = |m: Vec<u32>| m.into_iter().collect::<BTreeSet<u32>>();
            assert_eq!(
                keys(figures.by_store.keys().copied().collect()),
                mine,
                "{label}: ranking"
            );
            assert!(
                keys(figures.daily_series.keys().copied().collect()).is_subset(&mine),
                "{label}: series"
            );
            assert!(
                keys(figures.hourly_series.keys().copied().collect()).is_subset(&mine),
                "{label}: hourly series"
            );
            let p = previous.expect("a comparison").totals;
            assert_eq!(
                (p.store_visitors, p.transactions, cents(p.revenue)),
                (
                    expected_prev.store_visitors,
                    expected_prev.transactions,
                    cents(expected_prev.revenue)
                ),
                "{label}: comparison period"
            );
            let period = w.period_totals(&all_mine).await.expect("period totals");
            assert_eq!(period.transactions, expected.transactions, "{label}");
            let (rows, _) = export(w, &all_mine).await;
            assert!(
                rows.iter().all(|r| mine.contains(&r.store_id)),
                "{label}: export rows of other stores"
            );
            assert_eq!(rows.len(), rows_one_by_one, "{label}: export rows");
            // One of their stores: the ranking still lists only theirs.
            let three =
                resolve_scoped(&query(Some(3), from, to), reference, now, &scope).expect("store 3");
            let f = w.dashboard_figures(&three).await.expect("store 3");
            assert_eq!(keys(f.by_store.keys().copied().collect()), mine, "{label}");
            // Another store: refused before any query.
            assert_eq!(
                resolve_scoped(&query(Some(2), from, to), reference, now, &scope),
                Err(ScopedError::Forbidden(Forbidden { store_id: 2 })),
                "{label}"
            );
        }
        // A manager without stores sees nothing at all, not the chain.
        let none = resolve_scoped(
            &query(None, "2025-03-03", "2025-03-16"),
            reference,
            now,
            &StoreScope::Only(BTreeSet::new()),
        )
        .expect("resolves");
        let f = w.dashboard_figures(&none).await.expect("figures");
        assert_eq!(f.totals, Totals::default(), "{}", env.label);
        assert!(f.by_store.is_empty() && export(w, &none).await.0.is_empty());
        env.close().await;
    }
}

#[tokio::test]
async fn accounts_sessions_tokens_and_the_setup_link_as_stored() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let w = &env.pipeline.warehouse;
        let l = &env.label;
        assert_eq!(w.account_count().await.expect("count"), 0, "{l}");
        // The set-up link works once, and only while there is no account.
        w.replace_setup_link("h1", 100).await.expect("link");
        assert!(w.setup_link_valid("h1").await.expect("valid"), "{l}");
        assert!(!w.setup_link_valid("other").await.expect("valid"), "{l}");
        assert!(w.use_setup_link("h1", 101).await.expect("use"), "{l}");
        assert!(!w.use_setup_link("h1", 102).await.expect("reuse"), "{l}");
        let id = w
            .create_account("Marie", Some("$argon2id$x"), Role::Manager, &[3, 1], 100)
            .await
            .expect("create");
        assert!(matches!(
            w.create_account("marie", None, Role::Analyst, &[], 100)
                .await,
            Err(AccountError::Taken(_))
        ));
        let a = w
            .account_named("MARIE")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(
            (a.id, a.role, a.stores.clone(), a.disabled),
            (id, Role::Manager, vec![1, 3], false),
            "{l}"
        );
        assert_eq!(a.scope(), StoreScope::Only([1, 3].into_iter().collect()));
        w.replace_setup_link("h2", 103).await.expect("link");
        assert!(
            !w.setup_link_valid("h2").await.expect("valid"),
            "{l}: accounts exist"
        );
        // Sessions: stored by hash, touched, ended by a password change.
        w.create_session("s1", &a, 200, "10.0.0.1")
            .await
            .expect("session");
        let s = w.session("s1").await.expect("read").expect("exists");
        assert_eq!((s.created_at, s.last_seen, s.generation), (200, 200, 0));
        w.touch_session("s1", 260).await.expect("touch");
        assert_eq!(
            w.session("s1").await.expect("read").map(|s| s.last_seen),
            Some(260)
        );
        let changed = w
            .update_account(
                "marie",
                &AccountChange {
                    password_hash: Some(Some("$argon2id$y".into())),
                    stores: Some(vec![2]),
                    ..AccountChange::default()
                },
            )
            .await
            .expect("update");
        assert_eq!((changed.generation, &changed.stores), (1, &vec![2]), "{l}");
        assert!(w.session("s1").await.expect("read").is_none(), "{l}");
        // A role change keeps sessions.
        w.create_session("s2", &changed, 300, "")
            .await
            .expect("session");
        w.update_account(
            "marie",
            &AccountChange {
                role: Some(Role::Analyst),
                ..AccountChange::default()
            },
        )
        .await
        .expect("role");
        assert!(w.session("s2").await.expect("read").is_some(), "{l}");
        assert_eq!(
            w.delete_stale_sessions(301, 0).await.expect("stale"),
            1,
            "{l}"
        );
        // Tokens: live, expired, revoked.
        let t = w
            .create_token(id, "excel", "t1", 100, 1000)
            .await
            .expect("token");
        assert!(w.token_account("t1", 500).await.expect("read").is_some());
        assert!(w.token_account("t1", 1000).await.expect("read").is_none());
        assert!(w.revoke_token(id, t, 600).await.expect("revoke"));
        assert!(!w.revoke_token(id, t, 600).await.expect("again"));
        assert!(w.token_account("t1", 500).await.expect("read").is_none());
        let listed = w.tokens_of(id).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].revoked_at, Some(600));
        // Failures: upserted, cleared.
        let f = Failures {
            failures: 3,
            last_failure: 50,
            locked_until: 0,
        };
        w.set_failures("user:marie", f).await.expect("set");
        w.set_failures("user:marie", Failures { failures: 6, ..f })
            .await
            .expect("set again");
        assert_eq!(
            w.failures("user:marie")
                .await
                .expect("read")
                .map(|f| f.failures),
            Some(6)
        );
        w.clear_failures("user:marie").await.expect("clear");
        assert!(w.failures("user:marie").await.expect("read").is_none());
        // The audit log keeps what happened, newest first.
        w.audit(10, "marie", "10.0.0.1", "sign-in", "")
            .await
            .expect("audit");
        w.audit(11, "marie", "10.0.0.1", "export", "store=1")
            .await
            .expect("audit");
        let log = w.audit_log(10).await.expect("log");
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["export", "sign-in"],
            "{l}"
        );
        env.close().await;
    }
}

#[tokio::test]
async fn sso_sign_ins_begun_are_taken_once_and_accounts_link_by_issuer_and_subject() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let w = &env.pipeline.warehouse;
        let l = &env.label;
        let pending = PendingSso {
            nonce: "n1".into(),
            pkce_verifier: "v1".into(),
            next: "/dashboard?store=1".into(),
            lang: "en".into(),
        };
        w.put_sso_pending("s1", &pending, 100, 700)
            .await
            .expect("put");
        w.put_sso_pending("s2", &pending, 100, 150)
            .await
            .expect("put");
        // Taken once: a replay, or a second replica, finds nothing.
        assert_eq!(
            w.take_sso_pending("s1", 200).await.expect("take"),
            Some(pending.clone()),
            "{l}"
        );
        assert_eq!(
            w.take_sso_pending("s1", 200).await.expect("again"),
            None,
            "{l}"
        );
        assert_eq!(
            w.take_sso_pending("unknown", 200).await.expect("unknown"),
            None
        );
        // Expired: refused (and gone).
        assert_eq!(
            w.take_sso_pending("s2", 200).await.expect("expired"),
            None,
            "{l}"
        );
        // Expired rows are swept when a new sign-in begins.
        w.put_sso_pending("s3", &pending, 100, 150)
            .await
            .expect("put");
        w.put_sso_pending("s4", &pending, 300, 900)
            .await
            .expect("put");
        assert_eq!(
            w.take_sso_pending("s3", 0).await.expect("swept"),
            None,
            "{l}"
        );

        // A local account named like the SSO user is never taken over.
        w.create_account("lea", Some("$argon2id$x"), Role::Analyst, &[], 100)
            .await
            .expect("local lea");
        let iss = "https://id.example";
        let SsoAccount::Ready(a) = w
            .sso_account(iss, "sub-lea", "lea", Role::Manager, &[1, 2], 200)
            .await
            .expect("first sign-in")
        else {
            panic!("{l}: a new SSO account is not disabled");
        };
        assert_eq!(
            (
                a.username.as_str(),
                a.role,
                a.stores.clone(),
                a.password_hash.clone()
            ),
            ("lea-sso", Role::Manager, vec![1, 2], None),
            "{l}"
        );
        let local = w.account_named("lea").await.expect("read").expect("local");
        assert_eq!(
            (local.role, local.password_hash.is_some()),
            (Role::Analyst, true),
            "{l}"
        );
        // The next sign-in of the same subject: the same account, with today's claims.
        let SsoAccount::Ready(b) = w
            .sso_account(iss, "sub-lea", "someone else", Role::Manager, &[2], 300)
            .await
            .expect("second sign-in")
        else {
            panic!("{l}: not disabled");
        };
        assert_eq!((b.id, b.stores.clone()), (a.id, vec![2]), "{l}");
        // The same subject at another issuer is another person.
        let SsoAccount::Ready(c) = w
            .sso_account(
                "https://other.example",
                "sub-lea",
                "lea",
                Role::Admin,
                &[],
                300,
            )
            .await
            .expect("other issuer")
        else {
            panic!("{l}: not disabled");
        };
        assert_ne!(c.id, a.id, "{l}");
        assert_eq!(c.username, "lea-sso2", "{l}");
        // Disabled by an admin: refused whatever the claims say, and left as it was.
        w.update_account(
            "lea-sso",
            &AccountChange {
                disabled: Some(true),
                ..AccountChange::default()
            },
        )
        .await
        .expect("disable");
        let d = w
            .sso_account(iss, "sub-lea", "lea", Role::Admin, &[], 400)
            .await
            .expect("disabled sign-in");
        assert!(
            matches!(&d, SsoAccount::Disabled(a) if a.role == Role::Manager),
            "{l}: {d:?}"
        );
        env.close().await;
    }
}
