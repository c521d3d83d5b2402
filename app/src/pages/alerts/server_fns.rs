//! The alerts page's server functions, and the header's count. Every one reads the
//! viewer's store scope on the server: another store's alert is refused (403) before
//! anything of it is read. A form's mistake comes back as `Ok(Some(code))` (worded by the
//! page); `Err` is for access and outages. The delivery channels' functions are under
//! `/api/admin_…` (admins only, at the server's gate and again here).

use leptos::prelude::*;

use super::query::AlertsQuery;
use crate::wire::{AlertsView, ChannelAdded, ChannelsView, LoadError, TestOutcome};

/// The alerts of the filters, in the viewer's stores. JSON input: the query holds enums.
#[server(endpoint = "alerts", input = leptos::server_fn::codec::Json)]
pub async fn get_alerts(query: AlertsQuery) -> Result<AlertsView, LoadError> {
    super::server::view(query).await
}

/// The open alerts of the viewer's stores, for the header; `None` for a visitor who is
/// not signed in (the header then shows no count).
#[server(endpoint = "alerts_count")]
pub async fn get_alert_count() -> Result<Option<u64>, LoadError> {
    super::server::open_count().await
}

/// Acknowledges an open alert with a comment (who and when are recorded).
#[server(endpoint = "alerts_acknowledge")]
pub async fn acknowledge_alert(id: i64, comment: String) -> Result<Option<String>, LoadError> {
    super::server::acknowledge(id, comment).await
}

/// A silence over a store or one of its sensors: `from`/`to` are Paris local times
/// (`YYYY-MM-DDTHH:MM`, as a `datetime-local` input writes them). With `weekdays`
/// (0 = Monday) it recurs: those days only, from `from`'s hour to `to`'s hour, from
/// `from`'s day to `to`'s day.
#[server(endpoint = "alerts_silence", input = leptos::server_fn::codec::Json)]
pub async fn add_silence(
    store_id: u32,
    sensor_id: Option<u32>,
    from: String,
    to: String,
    weekdays: Vec<u32>,
    reason: String,
) -> Result<Option<String>, LoadError> {
    super::server::silence(store_id, sensor_id, from, to, weekdays, reason).await
}

/// The delivery channels and the deliveries that failed or wait for a retry (admins).
#[server(endpoint = "admin_alert_channels")]
pub async fn get_channels() -> Result<ChannelsView, LoadError> {
    super::server::channels().await
}

/// A new channel: `kind` is `webhook`, `slack` or `email`; `target` its URL or address;
/// `stores` its stores (empty for every store); `lang` its messages' language. A webhook's
/// signing secret is made on the server and answered once.
#[server(endpoint = "admin_alert_channel_add", input = leptos::server_fn::codec::Json)]
pub async fn add_channel(
    kind: String,
    label: String,
    target: String,
    stores: Vec<u32>,
    lang: String,
) -> Result<ChannelAdded, LoadError> {
    super::server::add_channel(kind, label, target, stores, lang).await
}

/// Turns a channel off (its history stays).
#[server(endpoint = "admin_alert_channel_disable")]
pub async fn disable_channel(id: i64) -> Result<Option<String>, LoadError> {
    super::server::disable_channel(id).await
}

/// Sends a test message through a channel now, and says what the receiver answered.
#[server(endpoint = "admin_alert_channel_test")]
pub async fn test_channel(id: i64) -> Result<TestOutcome, LoadError> {
    super::server::test_channel(id).await
}
