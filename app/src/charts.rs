//! Charts drawn with plotters into SVG on the server. Each function returns the SVG text,
//! or `None` when there is nothing to draw (the page shows an empty-state message).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;

use crate::format;
use crate::i18n::Lang;

const W: u32 = 640;
const H: u32 = 300;
const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 78, 121),
    RGBColor(224, 122, 31),
    RGBColor(46, 139, 87),
    RGBColor(178, 34, 52),
    RGBColor(106, 90, 205),
    RGBColor(0, 139, 139),
    RGBColor(184, 134, 11),
    RGBColor(199, 21, 133),
    RGBColor(85, 107, 47),
    RGBColor(70, 130, 180),
    RGBColor(139, 69, 19),
    RGBColor(112, 128, 144),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn render(
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> DrawResult,
) -> Option<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        if root.fill(&WHITE).is_err() {
            return None;
        }
        if let Err(e) = draw(root.clone()) {
            tracing::warn!(error = %e, "chart drawing failed");
            return None;
        }
        if root.present().is_err() {
            return None;
        }
    }
    // Scale with the container.
    Some(svg.replacen(
        &format!("width=\"{W}\" height=\"{H}\""),
        &format!("viewBox=\"0 0 {W} {H}\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\""),
        1,
    ))
}

fn short_date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{:02}/{:02}", d.day(), d.month()),
        Lang::En => format!("{:02}-{:02}", d.month(), d.day()),
    }
}

/// Lines over days: one series per (label, values by date).
pub fn daily_lines(
    series: &[(String, BTreeMap<NaiveDate, f64>)],
    y_desc: &str,
    lang: Lang,
) -> Option<String> {
    let dates: Vec<NaiveDate> = {
        let mut all: Vec<NaiveDate> = series.iter().flat_map(|(_, s)| s.keys().copied()).collect();
        all.sort();
        all.dedup();
        all
    };
    if dates.is_empty() {
        return None;
    }
    let max = series
        .iter()
        .flat_map(|(_, s)| s.values().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let index: BTreeMap<NaiveDate, usize> =
        dates.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let n = dates.len();
    let legend = series.len() <= 12;
    render(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(55)
            .build_cartesian_2d(0..n.max(2) - 1, 0.0..max * 1.1)?;
        chart
            .configure_mesh()
            .x_labels(n.min(10))
            .x_label_formatter(&|i| {
                dates
                    .get(*i)
                    .map(|d| short_date(*d, lang))
                    .unwrap_or_default()
            })
            .y_label_formatter(&|v| format::int(*v as i64, lang))
            .y_desc(y_desc)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (i, (label, values)) in series.iter().enumerate() {
            let c = color(i);
            let points: Vec<(usize, f64)> = values
                .iter()
                .filter_map(|(d, v)| index.get(d).map(|x| (*x, *v)))
                .collect();
            let drawn = chart.draw_series(LineSeries::new(points, c.stroke_width(2)))?;
            if legend {
                drawn.label(label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        Ok(())
    })
}

/// Vertical bars over categories.
pub fn bars(
    categories: &[(String, f64)],
    y_desc: &str,
    y_fmt: &dyn Fn(f64) -> String,
    c: RGBColor,
) -> Option<String> {
    if categories.is_empty() || categories.iter().all(|(_, v)| *v == 0.0) {
        return None;
    }
    let max = categories
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let n = categories.len();
    render(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(65)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..max * 1.1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => categories
                    .get(*i)
                    .map(|(l, _)| l.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| y_fmt(*v))
            .y_desc(y_desc)
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(c.filled())
                .margin(6)
                .data(categories.iter().enumerate().map(|(i, (_, v))| (i, *v))),
        )?;
        Ok(())
    })
}

/// Horizontal bars, one per labelled row, largest first (at the top).
pub fn ranking(rows: &[(String, f64)], value_fmt: &dyn Fn(f64) -> String) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let max = rows
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let n = rows.len();
    // Row i is drawn at segment n-1-i so that the first row is at the top.
    let label_of = |seg: usize| {
        rows.get(n - 1 - seg)
            .map(|(l, _)| l.clone())
            .unwrap_or_default()
    };
    render(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(25)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..max * 1.2, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) if *i < n => label_of(*i),
                _ => String::new(),
            })
            .x_label_formatter(&|v| value_fmt(*v))
            .draw()?;
        chart.draw_series(
            Histogram::horizontal(&chart)
                .style(color(0).filled())
                .margin(4)
                .data(rows.iter().enumerate().map(|(i, (_, v))| (n - 1 - i, *v))),
        )?;
        chart.draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            Text::new(
                value_fmt(*v),
                (*v + max * 0.01, SegmentValue::CenterOf(n - 1 - i)),
                ("sans-serif", 12).into_font(),
            )
        }))?;
        Ok(())
    })
}

/// Weekday (Monday..Friday) × hour (9..19) heat map.
pub fn heatmap(cells: &BTreeMap<(u32, u32), f64>, lang: Lang) -> Option<String> {
    if cells.is_empty() {
        return None;
    }
    let max = cells.values().copied().fold(0.0_f64, f64::max).max(1e-9);
    let days = match lang {
        Lang::Fr => ["lun.", "mar.", "mer.", "jeu.", "ven."],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri"],
    };
    render(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(9.0..20.0, 0.0..5.0)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(12)
            .x_label_formatter(&|x: &f64| {
                if *x < 19.6 {
                    format!("{}h", x.floor() as u32)
                } else {
                    String::new()
                }
            })
            .y_labels(6)
            .y_label_formatter(&|y: &f64| {
                let i = y.floor() as usize;
                if (*y - y.floor()) < 0.01 && i < 5 {
                    days[4 - i].to_string()
                } else {
                    String::new()
                }
            })
            .draw()?;
        chart.draw_series(
            cells
                .iter()
                .filter(|((wd, _), _)| *wd < 5)
                .map(|((wd, hour), v)| {
                    let t = v / max;
                    let shade = RGBColor(
                        (255.0 - t * (255.0 - 31.0)) as u8,
                        (255.0 - t * (255.0 - 78.0)) as u8,
                        (255.0 - t * (255.0 - 121.0)) as u8,
                    );
                    let y = (4 - wd) as f64;
                    Rectangle::new(
                        [(*hour as f64, y), (*hour as f64 + 1.0, y + 1.0)],
                        shade.filled(),
                    )
                }),
        )?;
        Ok(())
    })
}
