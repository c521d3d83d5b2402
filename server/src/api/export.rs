//! `GET /export.csv`: the dashboard's filtered hourly rows, one per store and hour, with
//! the filter's visitors and the store's transactions and revenue (summing a column gives
//! the dashboard's KPI). Same filters, and same resolution of defaults, as the dashboard.
//!
//! `format=csv` (default): RFC 4180 CSV, comma-separated, decimal point.
//! `format=excel`: what a French Excel opens in columns with a double click — UTF-8 with a
//! byte-order mark, `;`-separated, decimal comma, CRLF line ends.
//!
//! The rows are streamed from the database to the client through a bounded channel:
//! memory does not grow with the range.

use app::services::Services;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use pipeline::access::{ClientAddress, Visitor};
use pipeline::filter::{DashboardQuery, ScopedError};
use pipeline::kpi::ExportHour;
use pipeline::Reference;
use tokio::sync::mpsc;

use super::error::ApiError;

/// Rows in flight between the database and the response (backpressure bound).
const CHANNEL_ROWS: usize = 1024;
/// Rows written per body chunk.
const CHUNK_ROWS: usize = 512;

fn error(status: StatusCode, code: &'static str, detail: String) -> Response {
    ApiError::new(status, code, None, detail).into_response()
}

/// The two file layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Excel,
}

impl ExportFormat {
    fn delimiter(self) -> u8 {
        match self {
            ExportFormat::Csv => b',',
            ExportFormat::Excel => b';',
        }
    }

    fn terminator(self) -> csv::Terminator {
        match self {
            ExportFormat::Csv => csv::Terminator::Any(b'\n'),
            ExportFormat::Excel => csv::Terminator::CRLF,
        }
    }

    fn money(self, v: f64) -> String {
        let s = format!("{v:.2}");
        match self {
            ExportFormat::Csv => s,
            ExportFormat::Excel => s.replace('.', ","),
        }
    }
}

/// The export's columns (French names: the data contract of the original files).
pub const COLUMNS: [&str; 8] = [
    "date",
    "heure",
    "store_id",
    "city_store",
    "nb_visiteurs",
    "nb_visiteurs_magasin",
    "nb_transactions",
    "chiffre_affaires",
];

/// Parses the dashboard's filter (its URL grammar, [`DashboardQuery`]: `store`,
/// `sensors` repeated or comma-separated, `from`, `to`, `h0`, `h1`, `lang`…) and
/// `format`. Empty values mean "default"; a number that is not one is refused.
fn parse(raw: Option<&str>) -> Result<(DashboardQuery, ExportFormat), String> {
    let mut q = DashboardQuery::default();
    let mut format = ExportFormat::Csv;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if k == "format" && !v.trim().is_empty() {
            format = match v.trim() {
                "csv" => ExportFormat::Csv,
                "excel" => ExportFormat::Excel,
                other => {
                    return Err(format!(
                        "Le paramètre « format » vaut « csv » ou « excel » (reçu : « {other} »)."
                    ))
                }
            }
        } else {
            q.read_pair(&k, &v).map_err(|e| e.to_string())?;
        }
    }
    Ok((q, format))
}

/// One chunk of the file: the given rows, as CSV in `format`.
fn write_rows(
    format: ExportFormat,
    reference: &Reference,
    rows: &[ExportHour],
    header: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .delimiter(format.delimiter())
        .terminator(format.terminator())
        .from_writer(Vec::with_capacity(rows.len() * 64 + 128));
    if header {
        out.write_record(COLUMNS)?;
    }
    for r in rows {
        let city = reference
            .store(r.store_id)
            .map(|s| s.city_store.as_str())
            .unwrap_or("");
        out.write_record([
            r.date.to_string(),
            pipeline::spelling::heure(r.hour),
            r.store_id.to_string(),
            city.to_string(),
            r.visitors.to_string(),
            r.store_visitors.to_string(),
            r.transactions.to_string(),
            format.money(r.revenue),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

pub async fn export_csv(
    State(services): State<Services>,
    visitor: Option<Extension<Visitor>>,
    address: Option<Extension<ClientAddress>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (query, format) = match parse(raw.as_deref()) {
        Ok(q) => q,
        Err(detail) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_parameter",
                detail,
            )
        }
    };
    // The access gate let only viewers in; without one (a router built without it),
    // nothing leaves.
    let Some(Extension(Visitor::Known(viewer))) = visitor else {
        return error(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Connexion requise.".into(),
        );
    };
    let simulator = services.simulator.clone();
    let filter = match pipeline::filter::resolve_scoped(
        &query,
        simulator.reference(),
        services.clock.now(),
        &viewer.scope,
    ) {
        Ok(f) => f,
        Err(ScopedError::Invalid(e)) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_filter",
                e.message,
            )
        }
        Err(ScopedError::Forbidden(f)) => {
            return error(
                StatusCode::FORBIDDEN,
                "forbidden_store",
                f.message(query.lang()),
            )
        }
    };
    if let (Some(w), Some(name)) = (&services.warehouse, &viewer.name) {
        let address = address
            .map(|Extension(ClientAddress(a))| a)
            .unwrap_or_default();
        // The filter asked for, never the token that may ride along.
        let detail = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
            .filter(|(k, _)| k != "access_token")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        if let Err(e) = w
            .audit(
                services.clock.now().timestamp(),
                name,
                &address,
                "export",
                &detail,
            )
            .await
        {
            tracing::error!(error = %e, "cannot write the audit log");
        }
    }
    let Some(warehouse) = services.warehouse.clone() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_warehouse",
            "Entrepôt de données indisponible.".into(),
        );
    };

    let (tx, mut rx) = mpsc::channel::<ExportHour>(CHANNEL_ROWS);
    let query_filter = filter.clone();
    let mut producer =
        tokio::spawn(async move { warehouse.export_hours(&query_filter, &tx).await });

    // Wait for the first row (or the end): a query that fails at once still gets a
    // proper error answer instead of a truncated file.
    let mut producer_done = false;
    let first = tokio::select! {
        row = rx.recv() => row,
        done = &mut producer => {
            producer_done = true;
            match done {
                Ok(Ok(_)) => rx.recv().await,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "export query failed");
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "export_failed",
                        "L'export a échoué ; réessayez plus tard.".into(),
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "export task failed");
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "export_failed",
                        "L'export a échoué ; réessayez plus tard.".into(),
                    );
                }
            }
        }
    };

    struct Stream {
        rx: mpsc::Receiver<ExportHour>,
        /// The query task, until its outcome is known.
        producer: Option<tokio::task::JoinHandle<Result<u64, pipeline::warehouse::WarehouseError>>>,
        pending: Vec<ExportHour>,
        started: bool,
        finished: bool,
    }
    let state = Stream {
        rx,
        producer: (!producer_done).then_some(producer),
        pending: first.into_iter().collect(),
        started: false,
        finished: false,
    };
    let body = futures::stream::unfold(state, move |mut st| {
        let simulator = simulator.clone();
        async move {
            if st.finished {
                return None;
            }
            while st.pending.len() < CHUNK_ROWS {
                match st.rx.recv().await {
                    Some(r) => st.pending.push(r),
                    None => break,
                }
            }
            let last = st.pending.len() < CHUNK_ROWS;
            if last {
                // The channel is closed: the query ended, successfully or not.
                st.finished = true;
                let outcome = match st.producer.take() {
                    Some(task) => task.await,
                    None => Ok(Ok(0)),
                };
                match outcome {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "export query failed mid-stream");
                        return Some((Err(std::io::Error::other("export query failed")), st));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "export task failed mid-stream");
                        return Some((Err(std::io::Error::other("export task failed")), st));
                    }
                }
            }
            let mut chunk = Vec::new();
            if !st.started && format == ExportFormat::Excel {
                chunk.extend_from_slice("\u{feff}".as_bytes());
            }
            match write_rows(format, simulator.reference(), &st.pending, !st.started) {
                Ok(bytes) => chunk.extend_from_slice(&bytes),
                Err(e) => {
                    tracing::error!(error = %e, "export row not written");
                    st.finished = true;
                    return Some((Err(std::io::Error::other("export row not written")), st));
                }
            }
            st.started = true;
            st.pending.clear();
            Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), st))
        }
    })
    // The compression layer may poll again after the end: answer "ended" again.
    .fuse();

    let suffix = match format {
        ExportFormat::Csv => "",
        ExportFormat::Excel => "_excel",
    };
    let filename = format!("datamag360_{}_{}{suffix}.csv", filter.from, filter.to);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(revenue: f64) -> ExportHour {
        ExportHour {
            date: "2025-03-14".parse().expect("date"),
            hour: 9,
            store_id: 1,
            visitors: 120,
            store_visitors: 300,
            transactions: 42,
            revenue,
        }
    }

    /// One row with this revenue, written in `format` (with the header line if `header`).
    fn written(format: ExportFormat, revenue: f64, header: bool) -> String {
        let bytes =
            write_rows(format, &Reference::embedded(), &[row(revenue)], header).expect("written");
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn excel_layout_is_semicolons_and_decimal_commas() {
        let text = written(ExportFormat::Excel, 1534.5, true);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], COLUMNS.join(";"));
        assert!(
            lines[1].starts_with("2025-03-14;09:00:00;1;"),
            "{}",
            lines[1]
        );
        assert!(lines[1].ends_with(";120;300;42;1534,50"), "{}", lines[1]);
    }

    #[test]
    fn csv_layout_is_commas_and_decimal_points() {
        let text = written(ExportFormat::Csv, 10.0, false);
        assert!(text.ends_with(",120,300,42,10.00\n"), "{text}");
        assert!(!text.contains("date,"), "no header in later chunks");
    }

    #[test]
    fn parameters_accept_lists_and_reject_unknown_formats() {
        let (q, f) = parse(Some("store=3&sensors=1,2&sensors=5&from=&format=excel")).expect("ok");
        assert_eq!(q.store, Some(3));
        assert_eq!(q.sensors, vec![1, 2, 5]);
        assert_eq!(q.from, None);
        assert_eq!(f, ExportFormat::Excel);
        assert!(parse(Some("format=xlsx")).is_err());
        assert!(parse(Some("store=x")).is_err());
    }
}
