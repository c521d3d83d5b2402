//! Chart drawing with plotters, shared by the server (first paint) and the browser (after
//! hydration, at the container's real width). Drawing returns the SVG text and the pixel
//! position of every point, which the page uses for hover, touch and keyboard tooltips.

use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::format;
use crate::i18n::Lang;
use crate::wire::{ChartData, ChartKind, Unit};

/// Width the server draws at before the browser knows the container's width.
pub const SERVER_WIDTH: u32 = 640;
/// Axis text: plotters writes `font-size = size / 1.24`, so 16 renders at 12.9 CSS px.
const FONT: u32 = 16;
/// Average advance of a character of that font, in pixels (for label area sizes).
const CHAR_W: f64 = 7.4;

/// Colour-blind-friendly palette (Tableau 10), in series order.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

pub fn color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// `#rrggbb` of series `i`, for the HTML legend.
pub fn css_color(i: usize) -> String {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Heat map shade for `t` in [0, 1]: from pale yellow to dark blue (sequential, readable
/// in grey and by colour-blind readers).
pub fn heat(t: f64) -> (u8, u8, u8) {
    const STOPS: [(f64, (f64, f64, f64)); 4] = [
        (0.0, (255.0, 247.0, 188.0)),
        (0.35, (127.0, 205.0, 187.0)),
        (0.7, (44.0, 127.0, 184.0)),
        (1.0, (37.0, 52.0, 148.0)),
    ];
    let t = t.clamp(0.0, 1.0);
    for w in STOPS.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if t <= b {
            let u = if b > a { (t - a) / (b - a) } else { 0.0 };
            let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
            return (mix(ca.0, cb.0), mix(ca.1, cb.1), mix(ca.2, cb.2));
        }
    }
    (37, 52, 148)
}

/// How to draw: the width, which series are shown, the dashed comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawOptions {
    pub width: u32,
    /// One flag per series: drawn or not.
    pub shown: Vec<bool>,
    pub show_previous: bool,
    /// A series to bring forward (legend hover); the others fade.
    pub emphasis: Option<usize>,
    pub lang: Lang,
}

/// A point the pointer or the keyboard can land on: its series and x index, the marker
/// position and the area that catches the pointer, in the SVG's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub series: usize,
    pub index: usize,
    pub cx: f64,
    pub cy: f64,
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

/// A drawn chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drawn {
    pub svg: String,
    pub width: u32,
    pub height: u32,
    pub targets: Vec<Target>,
    /// Where the chart's alert markers stand: one per x position that has alerts.
    pub pins: Vec<Pin>,
}

/// The vertical line of the alerts at one x position, in the SVG's pixels (the page puts
/// its clickable marker, with the alerts' text, at its top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pin {
    /// The x position (`ChartMarker::index`).
    pub index: usize,
    pub x: f64,
    pub top: f64,
}

/// The colour of a marker of this severity.
fn severity_color(s: pipeline::alerts::Severity) -> RGBColor {
    match s {
        pipeline::alerts::Severity::Critical => RGBColor(180, 35, 24),
        pipeline::alerts::Severity::Warning => RGBColor(181, 71, 8),
        pipeline::alerts::Severity::Info => RGBColor(31, 78, 121),
    }
}

/// The most severe marker at each x position that has some, in x order.
fn marker_positions(data: &ChartData) -> Vec<(usize, pipeline::alerts::Severity)> {
    let mut by_x: std::collections::BTreeMap<usize, pipeline::alerts::Severity> =
        std::collections::BTreeMap::new();
    for m in data.markers.iter().filter(|m| m.index < data.axis.len()) {
        let e = by_x.entry(m.index).or_insert(m.severity);
        *e = (*e).max(m.severity);
    }
    by_x.into_iter().collect()
}

/// Draws the alerts' dashed vertical lines on a chart whose x positions sit at whole
/// numbers, and says where they stand.
fn draw_pins(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    data: &ChartData,
    max: f64,
) -> Result<Vec<Pin>, Box<dyn std::error::Error>> {
    let mut pins = Vec::new();
    for (index, severity) in marker_positions(data) {
        let x = index as f64;
        chart.draw_series(DashedLineSeries::new(
            vec![(x, 0.0), (x, max)],
            5,
            4,
            severity_color(severity).mix(0.8).stroke_width(2),
        ))?;
        let (px, top) = chart.backend_coord(&(x, max));
        pins.push(Pin {
            index,
            x: px as f64,
            top: top as f64,
        });
    }
    Ok(pins)
}

impl Drawn {
    /// The target under (x, y), in SVG pixels: among those whose area holds the point,
    /// the nearest marker; else the nearest marker within 40 px.
    pub fn hit(&self, x: f64, y: f64) -> Option<usize> {
        let dist = |t: &Target| (t.cx - x).powi(2) + (t.cy - y).powi(2);
        let inside = self
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| x >= t.x0 && x <= t.x1 && y >= t.y0 && y <= t.y1)
            .min_by(|a, b| dist(a.1).total_cmp(&dist(b.1)));
        if let Some((i, _)) = inside {
            return Some(i);
        }
        self.targets
            .iter()
            .enumerate()
            .filter(|(_, t)| dist(t) <= 40.0 * 40.0)
            .min_by(|a, b| dist(a.1).total_cmp(&dist(b.1)))
            .map(|(i, _)| i)
    }

    /// The target of (series, index), if drawn.
    pub fn find(&self, series: usize, index: usize) -> Option<usize> {
        self.targets
            .iter()
            .position(|t| t.series == series && t.index == index)
    }

    /// The next target from `from` with the arrow keys: left/right walk the x positions of
    /// the same series, up/down move to the series drawn above or below at the same x.
    pub fn step(&self, from: Option<usize>, key: &str) -> Option<usize> {
        let Some(cur) = from.and_then(|i| self.targets.get(i)) else {
            return (!self.targets.is_empty()).then_some(0);
        };
        let candidates = self.targets.iter().enumerate();
        let best = match key {
            "ArrowRight" => candidates
                .filter(|(_, t)| t.series == cur.series && t.index > cur.index)
                .min_by_key(|(_, t)| t.index),
            "ArrowLeft" => candidates
                .filter(|(_, t)| t.series == cur.series && t.index < cur.index)
                .max_by_key(|(_, t)| t.index),
            "ArrowUp" => candidates
                .filter(|(_, t)| t.index == cur.index && t.cy < cur.cy)
                .max_by(|a, b| a.1.cy.total_cmp(&b.1.cy)),
            "ArrowDown" => candidates
                .filter(|(_, t)| t.index == cur.index && t.cy > cur.cy)
                .min_by(|a, b| a.1.cy.total_cmp(&b.1.cy)),
            "Home" => candidates
                .filter(|(_, t)| t.series == cur.series)
                .min_by_key(|(_, t)| t.index),
            "End" => candidates
                .filter(|(_, t)| t.series == cur.series)
                .max_by_key(|(_, t)| t.index),
            _ => None,
        };
        best.map(|(i, _)| i).or(from)
    }
}

/// A value in the chart's unit, in the page's language (tooltips, table, axis).
pub fn format_value(v: f64, unit: Unit, lang: Lang) -> String {
    match unit {
        Unit::Count => format::int(v.round() as i64, lang),
        Unit::Euros => format::euros(v, lang),
        Unit::Ratio => format::percent(v, lang),
    }
}

/// Axis ticks: shorter than tooltips (no cents, fewer decimals).
fn axis_value(v: f64, unit: Unit, lang: Lang) -> String {
    match unit {
        Unit::Count => format::int(v.round() as i64, lang),
        Unit::Euros => match lang {
            Lang::Fr => format!("{}\u{a0}€", format::int(v.round() as i64, lang)),
            Lang::En => format!("€{}", format::int(v.round() as i64, lang)),
        },
        Unit::Ratio => match lang {
            Lang::Fr => format!("{}\u{a0}%", format::decimal(v * 100.0, 0, lang)),
            Lang::En => format!("{}%", format::decimal(v * 100.0, 0, lang)),
        },
    }
}

/// The chart's height for a width: wide enough to read, never taller than a phone screen.
pub fn height_for(data: &ChartData, width: u32) -> u32 {
    match data.kind {
        ChartKind::Ranking => (data.axis.len() as u32 * 30 + 60).max(200),
        ChartKind::Heatmap => (data.series.len() as u32 * 44 + 70).max(220),
        _ => ((width as f64 * 0.5) as u32).clamp(240, 340),
    }
}

/// The points the pointer can land on, and the alert markers' lines.
type DrawResult = Result<(Vec<Target>, Vec<Pin>), Box<dyn std::error::Error>>;

/// Draws `data` at `opts.width` pixels; `None` when there is nothing to draw.
pub fn draw(data: &ChartData, opts: &DrawOptions) -> Option<Drawn> {
    if data.is_empty() || data.axis.is_empty() {
        return None;
    }
    let width = opts.width.clamp(200, 4000);
    let height = height_for(data, width);
    let mut svg = String::new();
    let (targets, pins) = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let drawn = match data.kind {
            ChartKind::Lines => lines(data, opts, &root),
            ChartKind::Bars => bars(data, opts, &root),
            ChartKind::Ranking => ranking(data, opts, &root),
            ChartKind::Heatmap => heatmap(data, opts, &root),
        };
        let targets = match drawn {
            Ok(t) => t,
            Err(e) => {
                #[cfg(feature = "ssr")]
                tracing::warn!(chart = %data.id, error = %e, "chart drawing failed");
                #[cfg(not(feature = "ssr"))]
                let _ = e;
                return None;
            }
        };
        root.present().ok()?;
        targets
    };
    // An accessible picture: named by the chart's title.
    let svg = svg.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" focusable=\"false\" ",
            escape(&data.title)
        ),
        1,
    );
    Some(Drawn {
        svg,
        width,
        height,
        targets,
        pins,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The axes and grid of every chart: readable labels, a light grid, grey axes.
fn house_style<'m, 'a, 'b, 's, X: Ranged, Y: Ranged>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'s>>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'s>> {
    mesh.label_style(label_font())
        .bold_line_style(RGBColor(226, 226, 226))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(160, 160, 160))
}

fn label_font() -> TextStyle<'static> {
    ("sans-serif", FONT)
        .into_font()
        .color(&RGBColor(51, 51, 51))
}

/// Room for the longest of `labels`, in pixels.
fn label_room(labels: impl Iterator<Item = String>) -> u32 {
    let longest = labels.map(|l| l.chars().count()).max().unwrap_or(3);
    (longest as f64 * CHAR_W + 14.0).ceil() as u32
}

/// Every chart draws on one coordinate type (f64 × f64): plotters' drawing code is generic
/// over it, and each extra type costs its own copy in the browser's WASM. Categories (bars,
/// stores, heat-map cells) sit at whole numbers, `slots(n)` giving each a unit-wide slot.
fn slots(n: usize) -> std::ops::Range<f64> {
    -0.5..(n.max(1) as f64 - 0.5)
}

/// The category at axis value `v`, when `v` is a whole number inside `0..n`.
fn position(v: f64, n: usize) -> Option<usize> {
    let r = v.round();
    ((v - r).abs() < 1e-6 && r >= 0.0 && r < n as f64).then_some(r as usize)
}

/// The x label formatter of a category axis of `n` slots: one slot in so many is labelled,
/// so that the axis's longest label plus `gap` pixels fits in each labelled stretch of
/// the plot (the chart's width less `y_room`).
fn sparse_x_labels<'a>(
    data: &'a ChartData,
    opts: &DrawOptions,
    y_room: u32,
    n: usize,
    gap: usize,
) -> impl Fn(&f64) -> String + 'a {
    let lang = opts.lang;
    let x_room = label_room(data.axis.labels(lang));
    let plot_w = opts.width.saturating_sub(y_room + 18).max(50) as usize;
    let every = (n * (x_room as usize + gap)).div_ceil(plot_w).max(1);
    move |x| match position(*x, n) {
        Some(i) if i % every == 0 => data.axis.label(i, lang),
        _ => String::new(),
    }
}

/// Nice upper bound for the y axis.
fn y_max(data: &ChartData, opts: &DrawOptions, with_previous: bool) -> f64 {
    let mut max = 0.0_f64;
    for (i, s) in data.series.iter().enumerate() {
        if !opts.shown.get(i).copied().unwrap_or(s.visible) {
            continue;
        }
        for v in s.values.iter().flatten() {
            max = max.max(*v);
        }
        if with_previous {
            for v in s.previous.iter().flatten() {
                max = max.max(*v);
            }
        }
    }
    if let (Some(_), Some(b)) = (band_series(data, opts), &data.band) {
        for v in b.upper.iter().flatten() {
            max = max.max(*v);
        }
    }
    if max <= 0.0 {
        1.0
    } else {
        max * 1.08
    }
}

/// The series the expected band goes with, when the band is there and that series shown.
fn band_series(data: &ChartData, opts: &DrawOptions) -> Option<usize> {
    let band = data.band.as_ref()?;
    let i = data.series.iter().position(|s| s.key == band.series)?;
    opts.shown
        .get(i)
        .copied()
        .unwrap_or(data.series[i].visible)
        .then_some(i)
}

/// The expected band: a light area between its lower and upper values, in the colour of
/// its series, under the lines.
fn draw_band(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    data: &ChartData,
    opts: &DrawOptions,
) -> Result<(), Box<dyn std::error::Error>> {
    let (Some(i), Some(band)) = (band_series(data, opts), data.band.as_ref()) else {
        return Ok(());
    };
    let c = color(i);
    let both: Vec<Option<(f64, f64)>> = band
        .lower
        .iter()
        .zip(band.upper.iter())
        .map(|(a, b)| a.zip(*b))
        .collect();
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let mut flush = |run: &mut Vec<(f64, f64, f64)>| -> Result<(), Box<dyn std::error::Error>> {
        if run.is_empty() {
            return Ok(());
        }
        // A single position is drawn a little wide, so that it shows.
        if run.len() == 1 {
            let (x, lo, hi) = run[0];
            run.clear();
            run.extend([(x - 0.15, lo, hi), (x + 0.15, lo, hi)]);
        }
        let mut points: Vec<(f64, f64)> = run.iter().map(|(x, _, hi)| (*x, *hi)).collect();
        points.extend(run.iter().rev().map(|(x, lo, _)| (*x, *lo)));
        chart.draw_series(std::iter::once(Polygon::new(points, c.mix(0.16).filled())))?;
        for edge in [
            run.iter().map(|(x, _, hi)| (*x, *hi)).collect::<Vec<_>>(),
            run.iter().map(|(x, lo, _)| (*x, *lo)).collect::<Vec<_>>(),
        ] {
            chart.draw_series(LineSeries::new(edge, c.mix(0.45).stroke_width(1)))?;
        }
        run.clear();
        Ok(())
    };
    for (x, v) in both.iter().enumerate() {
        match v {
            Some((lo, hi)) => run.push((x as f64, *lo, *hi)),
            None => flush(&mut run)?,
        }
    }
    flush(&mut run)?;
    Ok(())
}

fn faded(c: RGBColor, i: usize, opts: &DrawOptions) -> RGBAColor {
    match opts.emphasis {
        Some(e) if e != i => c.mix(0.25),
        _ => c.mix(1.0),
    }
}

fn lines(
    data: &ChartData,
    opts: &DrawOptions,
    root: &DrawingArea<SVGBackend, Shift>,
) -> DrawResult {
    let n = data.axis.len();
    let with_previous = opts.show_previous;
    let max = y_max(data, opts, with_previous);
    let lang = opts.lang;
    let y_room = label_room((0..=4).map(|k| axis_value(max * k as f64 / 4.0, data.unit, lang)));
    let x_room = label_room(data.axis.labels(lang));
    let plot_w = opts.width.saturating_sub(y_room + 20).max(50);
    let max_labels = ((plot_w / (x_room + 8)).max(2) as usize).min(n.max(2));
    let mut chart = ChartBuilder::on(root)
        .margin_top(12)
        .margin_right((x_room / 2 + 4).max(16))
        .margin_left(6)
        .margin_bottom(6)
        .x_label_area_size(34)
        .y_label_area_size(y_room)
        .build_cartesian_2d(0.0..(n.max(2) - 1) as f64, 0.0..max)?;
    house_style(&mut chart.configure_mesh())
        .disable_x_mesh()
        .x_labels(max_labels)
        .x_label_formatter(&|v| {
            position(*v, n)
                .map(|i| data.axis.label(i, lang))
                .unwrap_or_default()
        })
        .y_labels(5)
        .y_label_formatter(&|v| axis_value(*v, data.unit, lang))
        .draw()?;
    draw_band(&mut chart, data, opts)?;
    let pins = draw_pins(&mut chart, data, max)?;
    let mut targets = Vec::new();
    let step = if n > 1 {
        let (a, _) = chart.backend_coord(&(0.0, 0.0));
        let (b, _) = chart.backend_coord(&(1.0, 0.0));
        (b - a) as f64
    } else {
        40.0
    };
    let (_, top) = chart.backend_coord(&(0.0, max));
    let (_, bottom) = chart.backend_coord(&(0.0, 0.0));
    for (i, s) in data.series.iter().enumerate() {
        if !opts.shown.get(i).copied().unwrap_or(s.visible) {
            continue;
        }
        let c = faded(color(i), i, opts);
        let width = if s.highlight || opts.emphasis == Some(i) {
            4
        } else {
            2
        };
        if with_previous && !s.previous.is_empty() {
            for run in runs(&s.previous) {
                chart.draw_series(DashedLineSeries::new(
                    run,
                    6,
                    4,
                    c.mix(0.55 * c.3).stroke_width(2),
                ))?;
            }
        }
        for run in runs(&s.values) {
            if run.len() == 1 {
                chart.draw_series(run.iter().map(|p| Circle::new(*p, 3, c.filled())))?;
            } else {
                chart.draw_series(LineSeries::new(run, c.stroke_width(width)))?;
            }
        }
        for (x, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let (px, py) = chart.backend_coord(&(x as f64, *v));
                targets.push(Target {
                    series: i,
                    index: x,
                    cx: px as f64,
                    cy: py as f64,
                    x0: px as f64 - step / 2.0,
                    x1: px as f64 + step / 2.0,
                    y0: top as f64 - 6.0,
                    y1: bottom as f64 + 6.0,
                });
            }
        }
    }
    Ok((targets, pins))
}

/// The runs of consecutive present values, as (x, value) points.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for (x, v) in values.iter().enumerate() {
        match v {
            Some(v) => cur.push((x as f64, *v)),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn bars(data: &ChartData, opts: &DrawOptions, root: &DrawingArea<SVGBackend, Shift>) -> DrawResult {
    let n = data.axis.len();
    let lang = opts.lang;
    let max = y_max(data, opts, opts.show_previous);
    let y_room = label_room((0..=4).map(|k| axis_value(max * k as f64 / 4.0, data.unit, lang)));
    let mut chart = ChartBuilder::on(root)
        .margin_top(12)
        .margin_right(12)
        .margin_left(6)
        .margin_bottom(6)
        .x_label_area_size(34)
        .y_label_area_size(y_room)
        .build_cartesian_2d(slots(n), 0.0..max)?;
    let x_label = sparse_x_labels(data, opts, y_room, n, 4);
    house_style(&mut chart.configure_mesh())
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&x_label)
        .y_labels(5)
        .y_label_formatter(&|v| axis_value(*v, data.unit, lang))
        .draw()?;
    let pins = draw_pins(&mut chart, data, max)?;
    let mut targets = Vec::new();
    let (_, bottom) = chart.backend_coord(&(0.0, 0.0));
    let (_, top) = chart.backend_coord(&(0.0, max));
    for (i, s) in data.series.iter().enumerate() {
        if !opts.shown.get(i).copied().unwrap_or(s.visible) {
            continue;
        }
        let c = faded(color(i), i, opts);
        chart.draw_series(s.values.iter().enumerate().filter_map(|(x, v)| {
            v.map(|v| {
                let mut bar =
                    Rectangle::new([(x as f64 - 0.5, 0.0), (x as f64 + 0.5, v)], c.filled());
                bar.set_margin(0, 0, 5, 5);
                bar
            })
        }))?;
        if opts.show_previous && !s.previous.is_empty() {
            // The comparison period: a dashed tick across each bar at its value.
            for (x, p) in s.previous.iter().enumerate() {
                if let Some(p) = p {
                    let (a, y) = chart.backend_coord(&(x as f64 - 0.5, *p));
                    let (b, _) = chart.backend_coord(&(x as f64 + 0.5, *p));
                    root.draw(&PathElement::new(
                        vec![(a + 3, y), (b - 3, y)],
                        BLACK.mix(0.7).stroke_width(2),
                    ))?;
                }
            }
        }
        for (x, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let (a, py) = chart.backend_coord(&(x as f64 - 0.5, *v));
                let (b, _) = chart.backend_coord(&(x as f64 + 0.5, *v));
                targets.push(Target {
                    series: i,
                    index: x,
                    cx: (a + b) as f64 / 2.0,
                    cy: py as f64,
                    x0: a as f64,
                    x1: b as f64,
                    y0: top as f64 - 6.0,
                    y1: bottom as f64 + 6.0,
                });
            }
        }
    }
    Ok((targets, pins))
}

fn ranking(
    data: &ChartData,
    opts: &DrawOptions,
    root: &DrawingArea<SVGBackend, Shift>,
) -> DrawResult {
    let n = data.axis.len();
    let lang = opts.lang;
    let Some(series) = data.series.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let max = y_max(data, opts, false) * 1.15;
    let y_room = label_room(data.axis.labels(lang)).min(opts.width / 3);
    let mut chart = ChartBuilder::on(root)
        .margin_top(8)
        .margin_right(16)
        .margin_left(6)
        .margin_bottom(6)
        .x_label_area_size(30)
        .y_label_area_size(y_room)
        .build_cartesian_2d(0.0..max, slots(n))?;
    // Row i is drawn at segment n-1-i, so that the best is at the top.
    house_style(&mut chart.configure_mesh())
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| match position(*y, n) {
            Some(i) => data.axis.label(n - 1 - i, lang),
            None => String::new(),
        })
        .x_labels(4)
        .x_label_formatter(&|v| axis_value(*v, data.unit, lang))
        .draw()?;
    let base = color(0);
    let hl = RGBColor(255, 127, 14);
    let mut targets = Vec::new();
    for (i, v) in series.values.iter().enumerate() {
        let Some(v) = v else { continue };
        let seg = n - 1 - i;
        let c = if data.highlight_x == Some(i) {
            hl
        } else {
            base
        };
        let mut bar = Rectangle::new(
            [(0.0, seg as f64 - 0.5), (*v, seg as f64 + 0.5)],
            c.filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        chart.draw_series(std::iter::once(bar))?;
        let (x_end, y_top) = chart.backend_coord(&(*v, seg as f64 + 0.5));
        let (x_start, y_bottom) = chart.backend_coord(&(0.0, seg as f64 - 0.5));
        let label = format_value(*v, data.unit, lang);
        chart.draw_series(std::iter::once(Text::new(
            label,
            (*v + max * 0.01, seg as f64),
            label_font().pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
        )))?;
        let (ya, yb) = (y_top.min(y_bottom) as f64, y_top.max(y_bottom) as f64);
        targets.push(Target {
            series: 0,
            index: i,
            cx: x_end as f64,
            cy: (ya + yb) / 2.0,
            x0: x_start as f64 - y_room as f64,
            x1: opts.width as f64,
            y0: ya,
            y1: yb,
        });
    }
    Ok((targets, Vec::new()))
}

fn heatmap(
    data: &ChartData,
    opts: &DrawOptions,
    root: &DrawingArea<SVGBackend, Shift>,
) -> DrawResult {
    let cols = data.axis.len();
    let rows = data.series.len();
    let max = data
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b))
        .max(1e-9);
    let y_room = label_room(data.series.iter().map(|s| s.label.clone()));
    let mut chart = ChartBuilder::on(root)
        .margin_top(8)
        .margin_right(12)
        .margin_left(6)
        .margin_bottom(6)
        .x_label_area_size(32)
        .y_label_area_size(y_room)
        .build_cartesian_2d(slots(cols), slots(rows))?;
    let x_label = sparse_x_labels(data, opts, y_room, cols, 2);
    // Row i (Monday first) is drawn at segment rows-1-i, so Monday is at the top.
    house_style(&mut chart.configure_mesh())
        .disable_mesh()
        .x_labels(cols)
        .x_label_formatter(&x_label)
        .y_labels(rows)
        .y_label_formatter(&|y| match position(*y, rows) {
            Some(i) => data
                .series
                .get(rows - 1 - i)
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    let mut targets = Vec::new();
    for (r, s) in data.series.iter().enumerate() {
        let seg_y = rows - 1 - r;
        for (x, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let (cr, cg, cb) = heat(v / max);
            let mut cell = Rectangle::new(
                [
                    (x as f64 - 0.5, seg_y as f64 - 0.5),
                    (x as f64 + 0.5, seg_y as f64 + 0.5),
                ],
                RGBColor(cr, cg, cb).filled(),
            );
            cell.set_margin(1, 1, 1, 1);
            chart.draw_series(std::iter::once(cell))?;
            let (a, ya) = chart.backend_coord(&(x as f64 - 0.5, seg_y as f64 + 0.5));
            let (b, yb) = chart.backend_coord(&(x as f64 + 0.5, seg_y as f64 - 0.5));
            let (y0, y1) = (ya.min(yb) as f64, ya.max(yb) as f64);
            targets.push(Target {
                series: r,
                index: x,
                cx: (a + b) as f64 / 2.0,
                cy: (y0 + y1) / 2.0,
                x0: a as f64,
                x1: b as f64,
                y0,
                y1,
            });
        }
    }
    Ok((targets, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ChartSeries;

    fn chart(kind: ChartKind, series: usize, n: usize) -> ChartData {
        ChartData {
            id: "t".into(),
            kind,
            title: "Visiteurs \"test\"".into(),
            description: String::new(),
            unit: Unit::Count,
            axis: crate::wire::Axis::Days(
                (0..n)
                    .map(|i| {
                        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                            + chrono::Days::new(i as u64)
                    })
                    .collect(),
            ),
            series: (0..series)
                .map(|s| ChartSeries {
                    key: s.to_string(),
                    label: format!("S{s}"),
                    values: (0..n).map(|i| Some((100 * (s + 1) + i) as f64)).collect(),
                    previous: (0..n).map(|i| Some((90 * (s + 1) + i) as f64)).collect(),
                    visible: s < 10,
                    highlight: s == 1,
                })
                .collect(),
            previous_label: Some("prev".into()),
            highlight_x: None,
            empty_message: "none".into(),
            markers: Vec::new(),
            band: None,
        }
    }

    fn opts(width: u32, n: usize) -> DrawOptions {
        DrawOptions {
            width,
            shown: vec![true; n],
            show_previous: true,
            emphasis: None,
            lang: Lang::Fr,
        }
    }

    /// Every text of the SVG renders at 12 px or more (plotters writes size / 1.24).
    fn smallest_font(svg: &str) -> f64 {
        svg.split("font-size=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse::<f64>().ok())
            .filter(|s| *s > 1.0)
            .fold(f64::MAX, f64::min)
    }

    #[test]
    fn every_kind_draws_at_phone_and_desktop_widths_with_readable_text() {
        for kind in [
            ChartKind::Lines,
            ChartKind::Bars,
            ChartKind::Ranking,
            ChartKind::Heatmap,
        ] {
            for width in [330, 1200] {
                let c = chart(kind, 3, 11);
                let d = draw(&c, &opts(width, 3)).expect("drawn");
                assert_eq!(d.width, width);
                assert!(d.svg.contains("role=\"img\""), "{kind:?}");
                assert!(d.svg.contains("aria-label=\"Visiteurs &quot;test&quot;\""));
                assert!(smallest_font(&d.svg) >= 12.0, "{kind:?} at {width}");
                assert!(!d.targets.is_empty(), "{kind:?}");
                for t in &d.targets {
                    assert!(t.cx >= 0.0 && t.cx <= width as f64, "{kind:?} {t:?}");
                    assert!(t.cy >= 0.0 && t.cy <= d.height as f64, "{kind:?} {t:?}");
                }
            }
        }
    }

    #[test]
    fn hidden_series_are_not_drawn_and_cannot_be_hovered() {
        let c = chart(ChartKind::Lines, 3, 5);
        let mut o = opts(600, 3);
        o.shown = vec![true, false, true];
        let d = draw(&c, &o).expect("drawn");
        assert!(d.targets.iter().all(|t| t.series != 1));
        assert_eq!(d.targets.len(), 10);
    }

    #[test]
    fn hit_and_keyboard_walk_find_the_points() {
        let c = chart(ChartKind::Lines, 2, 5);
        let d = draw(&c, &opts(600, 2)).expect("drawn");
        let t = d.targets[d.find(1, 2).expect("point")];
        assert_eq!(d.hit(t.cx + 1.0, t.cy + 1.0), d.find(1, 2));
        let start = d.find(0, 0);
        let right = d.step(start, "ArrowRight").expect("next");
        assert_eq!((d.targets[right].series, d.targets[right].index), (0, 1));
        // Series 1 has higher values: drawn above series 0.
        let up = d.step(Some(right), "ArrowUp").expect("up");
        assert_eq!((d.targets[up].series, d.targets[up].index), (1, 1));
        assert_eq!(d.step(d.find(0, 4), "ArrowRight"), d.find(0, 4));
    }

    #[test]
    fn alerts_stand_on_their_x_and_the_band_is_drawn_under_its_series() {
        use pipeline::alerts::Severity;
        let mut c = chart(ChartKind::Lines, 2, 5);
        let marker = |index, severity| crate::wire::ChartMarker {
            index,
            alert_id: 1,
            store_id: 1,
            severity,
            text: "t".into(),
        };
        c.markers = vec![
            marker(3, Severity::Warning),
            marker(1, Severity::Info),
            marker(1, Severity::Critical),
            marker(9, Severity::Critical),
        ];
        c.band = Some(crate::wire::ChartBand {
            series: "1".into(),
            label: "attendu".into(),
            lower: vec![Some(150.0), Some(150.0), None, Some(150.0), Some(150.0)],
            upper: vec![Some(900.0), Some(900.0), None, Some(900.0), Some(900.0)],
        });
        let d = draw(&c, &opts(600, 2)).expect("drawn");
        // One pin per x position with alerts, in x order; none outside the axis.
        assert_eq!(
            d.pins.iter().map(|p| p.index).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(d.pins[0].x < d.pins[1].x);
        let t1 = d.targets[d.find(0, 1).expect("point")];
        assert!((d.pins[0].x - t1.cx).abs() < 1.0, "on the point's x");
        // The most severe colour: critical red at x = 1.
        assert!(
            d.svg.contains("#B42318") || d.svg.contains("#b42318"),
            "{}",
            &d.svg[..200]
        );
        // The band: two polygons (a gap at x = 2), and the y axis reaches its top.
        assert_eq!(d.svg.matches("<polygon").count(), 2);
        let top = d.targets.iter().map(|t| t.cy).fold(f64::MAX, f64::min);
        assert!(
            top > d.pins[0].top + 20.0,
            "the band's top (900) is above every value"
        );
        // The band's series hidden: no band.
        let mut o = opts(600, 2);
        o.shown = vec![true, false];
        let d = draw(&c, &o).expect("drawn");
        assert_eq!(d.svg.matches("<polygon").count(), 0);
        // Bars carry pins too; other kinds none.
        let mut bars = chart(ChartKind::Bars, 1, 5);
        bars.markers = vec![marker(2, Severity::Info)];
        assert_eq!(draw(&bars, &opts(600, 1)).expect("drawn").pins.len(), 1);
        let mut heat = chart(ChartKind::Heatmap, 2, 5);
        heat.markers = vec![marker(2, Severity::Info)];
        assert!(draw(&heat, &opts(600, 2)).expect("drawn").pins.is_empty());
    }

    #[test]
    fn an_empty_chart_is_not_drawn() {
        let mut c = chart(ChartKind::Bars, 1, 3);
        c.series[0].values = vec![None; 3];
        assert!(draw(&c, &opts(600, 1)).is_none());
    }

    #[test]
    fn heat_scale_runs_from_light_to_dark() {
        let lum = |(r, g, b): (u8, u8, u8)| r as u32 + g as u32 + b as u32;
        assert!(lum(heat(0.0)) > lum(heat(0.5)));
        assert!(lum(heat(0.5)) > lum(heat(1.0)));
    }
}
