//! The KPI cards: each figure of `pipeline::kpi::Kpis` with its label, its display in the
//! page's language, and its change against the comparison period.

use chrono::NaiveDate;
use pipeline::kpi::{KpiFilter, Kpis};

use super::period::{covered, has_open_day};
use crate::format;
use crate::i18n::Lang;
use crate::wire::{ChangeState, KpiCard};

/// How the changes read for this period, comparison period and data range: "fermé" for a
/// period of closed days only, "n/a — données partielles" when either period lies partly
/// outside the data, nothing without a comparison, a percentage otherwise.
pub(super) fn change_state(
    f: &KpiFilter,
    cmp: Option<&KpiFilter>,
    range: Option<(NaiveDate, NaiveDate)>,
) -> ChangeState {
    let partial = |k: &KpiFilter| !covered(k, range);
    if !has_open_day(f) {
        ChangeState::Closed
    } else {
        match cmp {
            None => ChangeState::None,
            Some(c) if partial(c) || partial(f) => ChangeState::Partial,
            Some(_) => ChangeState::Change,
        }
    }
}

/// The cards, in the page's order, for the figures of the period (`cur`) and of the
/// comparison period (`prev`), their change read as `state` says.
pub(super) fn kpi_cards(
    cur: &Kpis,
    prev: Option<Kpis>,
    state: ChangeState,
    lang: Lang,
) -> Vec<KpiCard> {
    let closed = state == ChangeState::Closed;
    let card = |id: &str,
                label: &str,
                value: Option<f64>,
                previous: Option<f64>,
                display: String,
                fmt: &dyn Fn(f64) -> String| {
        let change = match (state, value, previous) {
            (ChangeState::Change, Some(v), Some(p)) if p != 0.0 => Some((v - p) / p),
            _ => None,
        };
        let change_state = match state {
            ChangeState::Change if change.is_none() => ChangeState::None,
            s => s,
        };
        KpiCard {
            id: id.to_string(),
            label: label.to_string(),
            value,
            display: if closed {
                lang.pick("fermé", "closed").to_string()
            } else {
                display
            },
            previous,
            previous_display: previous.map(fmt).unwrap_or_default(),
            change,
            change_state,
            change_display: match change_state {
                ChangeState::Change => change
                    .map(|c| format::change(c, lang))
                    .unwrap_or_else(|| "—".into()),
                ChangeState::None => "—".into(),
                ChangeState::Partial => lang
                    .pick("n/a — données partielles", "n/a — partial data")
                    .into(),
                ChangeState::Closed => lang.pick("fermé", "closed").into(),
            },
        }
    };
    let dash = || "—".to_string();
    let int = |v: f64| format::int(v.round() as i64, lang);
    let eur = |v: f64| format::euros(v, lang);
    let pct = |v: f64| format::percent(v, lang);
    // Each card: its id, its label (French, English), its figure, and how a value reads.
    type Figure = fn(&Kpis) -> Option<f64>;
    type Card<'f> = (
        &'static str,
        &'static str,
        &'static str,
        Figure,
        &'f dyn Fn(f64) -> String,
    );
    let cards: [Card; 7] = [
        (
            "visitors",
            "Visiteurs",
            "Visitors",
            |k| Some(k.visitors as f64),
            &int,
        ),
        (
            "active_sensors",
            "Capteurs actifs",
            "Active sensors",
            |k| Some(k.active_sensors as f64),
            &int,
        ),
        (
            "transactions",
            "Transactions",
            "Transactions",
            |k| Some(k.transactions as f64),
            &int,
        ),
        (
            "revenue",
            "Chiffre d'affaires",
            "Revenue",
            |k| Some(k.revenue),
            &eur,
        ),
        (
            "conversion",
            "Taux de conversion",
            "Conversion rate",
            |k| k.conversion,
            &pct,
        ),
        (
            "average_ticket",
            "Panier moyen",
            "Average ticket",
            |k| k.average_ticket,
            &eur,
        ),
        (
            "revenue_per_visitor",
            "CA par visiteur",
            "Revenue per visitor",
            |k| k.revenue_per_visitor,
            &eur,
        ),
    ];
    cards
        .into_iter()
        .map(|(id, fr, en, figure, fmt)| {
            let value = figure(cur);
            let display = value.map(fmt).unwrap_or_else(dash);
            card(
                id,
                lang.pick(fr, en),
                value,
                prev.as_ref().and_then(figure),
                display,
                fmt,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use pipeline::kpi::Totals;

    use super::super::period::test_support::d;
    use super::*;

    fn period(from: &str, to: &str) -> KpiFilter {
        super::super::period::test_support::period(None, from, to)
    }

    fn kpis(visitors: i64, active_sensors: i64, transactions: i64, revenue: f64) -> Kpis {
        Kpis::from_totals(&Totals {
            visitors,
            store_visitors: visitors,
            active_sensors,
            transactions,
            revenue,
        })
    }

    fn card<'c>(cards: &'c [KpiCard], id: &str) -> &'c KpiCard {
        cards.iter().find(|c| c.id == id).expect(id)
    }

    /// How a card's change reads: the change, its state and its text.
    fn change(c: &KpiCard) -> (Option<f64>, ChangeState, &str) {
        (c.change, c.change_state, c.change_display.as_str())
    }

    /// Every card's change, in order.
    fn changes(cards: &[KpiCard]) -> Vec<(Option<f64>, ChangeState, &str)> {
        cards.iter().map(change).collect()
    }

    const IDS: [&str; 7] = [
        "visitors",
        "active_sensors",
        "transactions",
        "revenue",
        "conversion",
        "average_ticket",
        "revenue_per_visitor",
    ];

    #[test]
    fn changes_read_as_signed_percentages_of_the_comparison() {
        let cur = kpis(1100, 10, 220, 4400.0);
        let prev = kpis(1000, 10, 200, 5000.0);
        let cards = kpi_cards(&cur, Some(prev), ChangeState::Change, Lang::Fr);
        assert_eq!(cards.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), IDS);

        let v = card(&cards, "visitors");
        assert_eq!(v.label, "Visiteurs");
        assert_eq!((v.value, v.previous), (Some(1100.0), Some(1000.0)));
        assert_eq!(v.display, "1\u{202f}100");
        assert_eq!(v.previous_display, "1\u{202f}000");
        assert_eq!(v.change_state, ChangeState::Change);
        assert!((v.change.expect("change") - 0.1).abs() < 1e-12);
        assert_eq!(v.change_display, "+10,0\u{a0}%");

        let r = card(&cards, "revenue");
        assert_eq!(r.display, "4\u{202f}400,00\u{a0}€");
        assert_eq!(r.change_display, "-12,0\u{a0}%");

        // No change is a change of zero, without a sign.
        let s = card(&cards, "active_sensors");
        assert_eq!((s.change, s.change_state), (Some(0.0), ChangeState::Change));
        assert_eq!(s.change_display, "0,0\u{a0}%");

        let c = card(&cards, "conversion");
        assert_eq!(c.label, "Taux de conversion");
        assert_eq!(c.display, "20,0\u{a0}%");
        assert_eq!(card(&cards, "average_ticket").display, "20,00\u{a0}€");
        assert_eq!(card(&cards, "revenue_per_visitor").display, "4,00\u{a0}€");

        // In English.
        let en = kpi_cards(&cur, Some(prev), ChangeState::Change, Lang::En);
        let (revenue, visitors) = (card(&en, "revenue"), card(&en, "visitors"));
        assert_eq!(
            (revenue.label.as_str(), revenue.display.as_str()),
            ("Revenue", "€4,400.00")
        );
        assert_eq!(visitors.change_display, "+10.0%");
    }

    #[test]
    fn nothing_to_divide_by_reads_as_no_change() {
        let cur = kpis(500, 4, 50, 1000.0);
        // No sales before: revenue 0, no average ticket.
        let prev = kpis(400, 4, 0, 0.0);
        let cards = kpi_cards(&cur, Some(prev), ChangeState::Change, Lang::Fr);
        for id in ["revenue", "average_ticket", "transactions"] {
            let none = (None, ChangeState::None, "—");
            assert_eq!(change(card(&cards, id)), none, "{id}");
        }
        assert_eq!(card(&cards, "average_ticket").previous_display, "");
        assert_eq!(card(&cards, "visitors").change_state, ChangeState::Change);

        // Without a comparison: no previous figures, no change, the figures themselves.
        let alone = kpi_cards(&cur, None, ChangeState::None, Lang::Fr);
        assert_eq!(changes(&alone), vec![(None, ChangeState::None, "—"); 7]);
        assert!(alone
            .iter()
            .all(|c| c.previous.is_none() && c.previous_display.is_empty()));
        assert_eq!(card(&alone, "visitors").display, "500");

        // A figure that does not exist (no visitors) displays as a dash.
        let empty = kpi_cards(&kpis(0, 0, 0, 0.0), None, ChangeState::None, Lang::Fr);
        assert_eq!(card(&empty, "conversion").value, None);
        assert_eq!(card(&empty, "conversion").display, "—");
        assert_eq!(card(&empty, "visitors").display, "0");
    }

    #[test]
    fn partial_data_and_closed_periods_say_so_on_every_card() {
        let cur = kpis(1100, 10, 220, 4400.0);
        let prev = kpis(1000, 10, 200, 5000.0);
        let partial = kpi_cards(&cur, Some(prev), ChangeState::Partial, Lang::Fr);
        let na = (None, ChangeState::Partial, "n/a — données partielles");
        assert_eq!(changes(&partial), vec![na; 7]);
        // The figures themselves still show.
        let visitors = card(&partial, "visitors");
        assert_eq!(
            (
                visitors.display.as_str(),
                visitors.previous_display.as_str()
            ),
            ("1\u{202f}100", "1\u{202f}000")
        );
        let partial_en = kpi_cards(&cur, Some(prev), ChangeState::Partial, Lang::En);
        assert!(partial_en
            .iter()
            .all(|c| c.change_display == "n/a — partial data"));

        let closed = kpi_cards(&kpis(0, 0, 0, 0.0), None, ChangeState::Closed, Lang::Fr);
        assert_eq!(
            changes(&closed),
            vec![(None, ChangeState::Closed, "fermé"); 7]
        );
        assert!(closed.iter().all(|c| c.display == "fermé"));
        let closed_en = kpi_cards(&kpis(0, 0, 0, 0.0), None, ChangeState::Closed, Lang::En);
        assert!(closed_en.iter().all(|c| c.display == "closed"));
    }

    #[test]
    fn the_change_state_follows_the_periods_and_the_data_range() {
        // Monday 16 to Sunday 22 November 2026, compared with the week before.
        let week = period("2026-11-16", "2026-11-22");
        let before = period("2026-11-09", "2026-11-15");
        let data = Some((d("2026-11-02"), d("2026-11-27")));
        assert_eq!(
            change_state(&week, Some(&before), data),
            ChangeState::Change
        );
        assert_eq!(change_state(&week, None, data), ChangeState::None);
        // The comparison starts before the data (its Monday to Wednesday are missing).
        let late_start = Some((d("2026-11-12"), d("2026-11-27")));
        assert_eq!(
            change_state(&week, Some(&before), late_start),
            ChangeState::Partial
        );
        // The period runs past the data's last day (Friday 20 is missing); its weekend
        // is not: a range ending on Friday covers it.
        let early_end = Some((d("2026-11-02"), d("2026-11-19")));
        assert_eq!(
            change_state(&week, Some(&before), early_end),
            ChangeState::Partial
        );
        let to_friday = Some((d("2026-11-02"), d("2026-11-20")));
        assert_eq!(
            change_state(&week, Some(&before), to_friday),
            ChangeState::Change
        );
        // No data at all.
        assert_eq!(
            change_state(&week, Some(&before), None),
            ChangeState::Partial
        );
        // A weekend holds closed days only, with or without a comparison.
        let weekend = period("2026-11-21", "2026-11-22");
        let weekend_before = period("2026-11-14", "2026-11-15");
        assert_eq!(
            change_state(&weekend, Some(&weekend_before), data),
            ChangeState::Closed
        );
        assert_eq!(change_state(&weekend, None, data), ChangeState::Closed);
    }
}
