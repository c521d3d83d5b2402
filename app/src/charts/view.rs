//! One dashboard chart as a component: drawn with plotters (`charts/draw.rs`) at its
//! container's width, redrawn on resize and when a legend entry is toggled; hover, touch
//! and arrow keys show the exact figures of a point; a click on a day or a store drills
//! down; a data table and an SVG download come with it.

use leptos::prelude::*;

use super::draw::{self, DrawOptions, Drawn};
use crate::i18n::Lang;
use crate::wire::{ChartData, ChartKind};

/// Milliseconds since the page started (browser), for the draw-time figure.
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.now())
            .unwrap_or(0.0)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

#[component]
pub fn Chart(
    data: ChartData,
    lang: Lang,
    /// Draw the comparison period (dashed lines, ticks on bars).
    show_previous: Signal<bool>,
    /// Called with a drill-down query (`store=3`, `from=…&to=…`).
    drill: Callback<String>,
) -> impl IntoView {
    let id = data.id.clone();
    let data = StoredValue::new(data);
    let shown = RwSignal::new(
        data.with_value(|d| d.series.iter().map(|s| s.visible).collect::<Vec<bool>>()),
    );
    let emphasis = RwSignal::new(None::<usize>);
    let width = RwSignal::new(draw::SERVER_WIDTH);
    // (series, x index) of the point whose tooltip is open.
    let active = RwSignal::new(None::<(usize, usize)>);
    let touch_armed = StoredValue::new(None::<(usize, usize)>);
    let last_pointer = StoredValue::new(String::new());
    let drawn: Memo<(Option<Drawn>, f64)> = Memo::new(move |_| {
        let opts = DrawOptions {
            width: width.get(),
            shown: shown.get(),
            show_previous: show_previous.get(),
            emphasis: emphasis.get(),
            lang,
        };
        let t0 = now_ms();
        let d = data.with_value(|d| draw::draw(d, &opts));
        (d, now_ms() - t0)
    });
    let plot = NodeRef::<leptos::html::Div>::new();

    #[cfg(feature = "hydrate")]
    {
        let measure = move || {
            if let Some(el) = plot.get_untracked() {
                let w = el.client_width();
                if w > 0 && (w as u32).abs_diff(width.get_untracked()) > 1 {
                    width.set(w as u32);
                }
            }
        };
        Effect::new(move |_| {
            if plot.get().is_some() {
                measure();
            }
        });
        let handle = leptos::prelude::window_event_listener(leptos::ev::resize, move |_| measure());
        on_cleanup(move || handle.remove());
    }

    let target_at = move |client_x: f64, client_y: f64| -> Option<(usize, usize)> {
        let el = plot.get_untracked()?;
        let rect = el.get_bounding_client_rect();
        drawn.with_untracked(|(d, _)| {
            let d = d.as_ref()?;
            let scale = d.width as f64 / rect.width().max(1.0);
            let x = (client_x - rect.left()) * scale;
            let y = (client_y - rect.top()) * scale;
            d.hit(x, y)
                .map(|i| (d.targets[i].series, d.targets[i].index))
        })
    };
    let open_link = move |(_, index): (usize, usize)| {
        if let Some(link) = data.with_value(|d| d.axis.link(index)) {
            drill.run(link);
        }
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        last_pointer.set_value(ev.pointer_type());
        active.set(target_at(ev.client_x() as f64, ev.client_y() as f64));
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(hit) = target_at(ev.client_x() as f64, ev.client_y() as f64) else {
            return;
        };
        if last_pointer.get_value() == "touch" && touch_armed.get_value() != Some(hit) {
            // First tap shows the figures; a second tap on the same point drills down.
            touch_armed.set_value(Some(hit));
            active.set(Some(hit));
            return;
        }
        touch_armed.set_value(None);
        open_link(hit);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        match key.as_str() {
            "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End" => {
                ev.prevent_default();
                let next = drawn.with_untracked(|(d, _)| {
                    let d = d.as_ref()?;
                    let from = active.get_untracked().and_then(|(s, i)| d.find(s, i));
                    d.step(from, &key)
                        .map(|i| (d.targets[i].series, d.targets[i].index))
                });
                active.set(next);
            }
            "Enter" => {
                if let Some(hit) = active.get_untracked() {
                    open_link(hit);
                }
            }
            "Escape" => active.set(None),
            _ => {}
        }
    };

    // The marker and the tooltip of the active point, in CSS pixels.
    let tooltip = move || {
        let (series, index) = active.get()?;
        let scale = plot
            .get()
            .map(|el| el.client_width() as f64)
            .filter(|w| *w > 0.0)
            .unwrap_or(width.get() as f64);
        drawn.with(|(d, _)| {
            let d = d.as_ref()?;
            let t = d.targets.get(d.find(series, index)?)?;
            let k = scale / d.width as f64;
            let (left, top) = (t.cx * k, t.cy * k);
            let side = if left < 110.0 {
                "start"
            } else if left > scale - 110.0 {
                "end"
            } else {
                "middle"
            };
            Some(data.with_value(|c| {
                let s = &c.series[series];
                let value = s.values.get(index).copied().flatten();
                let previous = if show_previous.get() {
                    s.previous.get(index).copied().flatten()
                } else {
                    None
                };
                let heading = match c.kind {
                    ChartKind::Heatmap => format!(
                        "{} {}",
                        s.label,
                        c.axis.full(index, lang)
                    ),
                    _ => c.axis.full(index, lang),
                };
                let band = c
                    .band
                    .as_ref()
                    .filter(|b| b.series == s.key)
                    .and_then(|b| {
                        Some((
                            b.lower.get(index).copied().flatten()?,
                            b.upper.get(index).copied().flatten()?,
                        ))
                    });
                let show_series = !matches!(c.kind, ChartKind::Heatmap | ChartKind::Ranking);
                let link = c.axis.link(index).is_some();
                let swatch = format!("background:{}", draw::css_color(series));
                view! {
                    <div
                        class="marker"
                        style=format!("left:{left:.1}px;top:{top:.1}px")
                        aria-hidden="true"
                    ></div>
                    <div
                        class=format!("tooltip {side}")
                        role="status"
                        style=format!("left:{left:.1}px;top:{top:.1}px")
                        data-series=series.to_string()
                        data-index=index.to_string()
                        data-key=s.key.clone()
                        data-x=c.axis.key(index)
                        data-value=value.map(|v| v.to_string()).unwrap_or_default()
                    >
                        <div class="tt-head">{heading}</div>
                        <div class="tt-row">
                            {show_series.then(|| view! { <span class="swatch" style=swatch.clone()></span> })}
                            {show_series.then(|| view! { <span class="tt-series">{s.label.clone()}</span> })}
                            <strong class="tt-value">
                                {value
                                    .map(|v| draw::format_value(v, c.unit, lang))
                                    .unwrap_or_else(|| "—".into())}
                            </strong>
                        </div>
                        {band
                            .map(|(lo, hi)| {
                                view! {
                                    <div class="tt-prev tt-band">
                                        {lang.pick("Attendu : ", "Expected: ")}
                                        {format!("{} – {}", draw::format_value(lo, c.unit, lang), draw::format_value(hi, c.unit, lang))}
                                    </div>
                                }
                            })}
                        {previous
                            .map(|p| {
                                view! {
                                    <div class="tt-prev">
                                        {lang.pick("Période de comparaison : ", "Comparison period: ")}
                                        {draw::format_value(p, c.unit, lang)}
                                    </div>
                                }
                            })}
                        {link
                            .then(|| {
                                view! {
                                    <div class="tt-hint">
                                        {match c.kind {
                                            ChartKind::Ranking => lang.pick("Cliquer pour ouvrir ce magasin", "Click to open this store"),
                                            _ => lang.pick("Cliquer pour voir ce jour heure par heure", "Click to see this day hour by hour"),
                                        }}
                                    </div>
                                }
                            })}
                    </div>
                }
            }))
        })
    };

    // The alerts' markers, at the top of their dashed lines: placed in percent of the
    // drawing, so they sit right before the browser has measured anything. A marker's
    // title lists its alerts; a click opens them on the alerts page.
    let pins = move || {
        drawn.with(|(d, _)| {
            let d = d.as_ref()?;
            let (w, h) = (d.width.max(1) as f64, d.height.max(1) as f64);
            Some(
                d.pins
                    .iter()
                    .map(|p| {
                        data.with_value(|c| {
                            let here: Vec<&crate::wire::ChartMarker> =
                                c.markers.iter().filter(|m| m.index == p.index).collect();
                            let severity = here
                                .iter()
                                .map(|m| m.severity)
                                .max()
                                .unwrap_or(pipeline::alerts::Severity::Info);
                            let text = here
                                .iter()
                                .map(|m| m.text.as_str())
                                .collect::<Vec<_>>()
                                .join("\n");
                            let first = here.first().map(|m| m.store_id);
                            let store = first.filter(|s| here.iter().all(|m| Some(m.store_id) == Some(*s)));
                            let href = crate::pages::alerts::query::AlertsQuery {
                                store,
                                lang,
                                ..Default::default()
                            }
                            .href();
                            view! {
                                <a
                                    class=format!("alert-marker {}", severity.key())
                                    href=href
                                    rel="external"
                                    title=text.clone()
                                    aria-label=text
                                    data-index=p.index.to_string()
                                    data-x=c.axis.key(p.index)
                                    data-count=here.len().to_string()
                                    style=format!("left:{:.2}%;top:calc({:.2}% - 12px)", p.x / w * 100.0, p.top / h * 100.0)
                                    on:click=|ev| ev.stop_propagation()
                                    on:pointermove=|ev| ev.stop_propagation()
                                >
                                    {if here.len() > 1 { here.len().to_string() } else { "!".to_string() }}
                                </a>
                            }
                        })
                    })
                    .collect_view(),
            )
        })
    };
    let (title, description, kind, empty_message) = data.with_value(|d| {
        (
            d.title.clone(),
            d.description.clone(),
            d.kind,
            d.empty_message.clone(),
        )
    });
    let desc_id = format!("desc-{id}");
    let title_id = format!("title-{id}");
    let is_empty = data.with_value(|d| d.is_empty());
    let legend = move || {
        data.with_value(|d| {
            if !matches!(d.kind, ChartKind::Lines | ChartKind::Bars) {
                return None;
            }
            let items = d
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let label = s.label.clone();
                    let swatch = format!("background:{}", draw::css_color(i));
                    view! {
                        <button
                            type="button"
                            class="legend-item"
                            class:off=move || !shown.with(|v| v.get(i).copied().unwrap_or(true))
                            aria-pressed=move || shown.with(|v| v.get(i).copied().unwrap_or(true)).to_string()
                            on:click=move |_| shown.update(|v| {
                                if let Some(x) = v.get_mut(i) {
                                    *x = !*x;
                                }
                            })
                            on:mouseenter=move |_| emphasis.set(Some(i))
                            on:mouseleave=move |_| emphasis.set(None)
                            on:focus=move |_| emphasis.set(Some(i))
                            on:blur=move |_| emphasis.set(None)
                        >
                            <span class="swatch" style=swatch></span>
                            {label}
                        </button>
                    }
                })
                .collect_view();
            let prev = d.previous_label.clone().filter(|_| {
                d.series.iter().any(|s| !s.previous.is_empty())
            });
            let dashed = d.kind == ChartKind::Lines;
            let band = d.band.as_ref().map(|b| view! {
                <span class="legend-band" id=format!("band-{}", d.id)><span class="band-swatch"></span>{b.label.clone()}</span>
            });
            let alerts = (!d.markers.is_empty()).then(|| {
                let n = d.markers.len();
                let text = match (lang, n) {
                    (Lang::Fr, 1) => "1 alerte".to_string(),
                    (Lang::Fr, n) => format!("{n} alertes"),
                    (Lang::En, 1) => "1 alert".to_string(),
                    (Lang::En, n) => format!("{n} alerts"),
                };
                view! { <span class="legend-alerts"><span class="dot"></span>{text}</span> }
            });
            Some(view! {
                <div class="legend" role="group" aria-label=lang.pick("Séries (cliquer pour masquer ou afficher)", "Series (click to hide or show)")>
                    {items}
                    {band}
                    {alerts}
                    {move || {
                        prev.clone()
                            .filter(|_| show_previous.get())
                            .map(|p| {
                                view! {
                                    <span class="legend-prev">
                                        <span class=if dashed { "dash" } else { "tick" }></span>
                                        {p}
                                    </span>
                                }
                            })
                    }}
                </div>
            })
        })
    };
    let scale = move || {
        data.with_value(|d| {
            if d.kind != ChartKind::Heatmap {
                return None;
            }
            let max = d
                .series
                .iter()
                .flat_map(|s| s.values.iter().flatten())
                .fold(0.0_f64, |a, b| a.max(*b));
            let stops: Vec<String> = (0..=4)
                .map(|k| {
                    let (r, g, b) = draw::heat(k as f64 / 4.0);
                    format!("rgb({r},{g},{b}) {}%", k * 25)
                })
                .collect();
            Some(view! {
                <div class="heat-scale" aria-hidden="true">
                    <span>{draw::format_value(0.0, d.unit, lang)}</span>
                    <span class="gradient" style=format!("background:linear-gradient(to right,{})", stops.join(","))></span>
                    <span>{draw::format_value(max, d.unit, lang)}</span>
                    <span class="muted">{lang.pick("visiteurs", "visitors")}</span>
                </div>
            })
        })
    };
    let table = move || {
        data.with_value(|d| {
            let with_prev = d.series.iter().any(|s| !s.previous.is_empty());
            let first_col = match d.kind {
                ChartKind::Ranking => lang.pick("Magasin", "Store"),
                ChartKind::Heatmap => lang.pick("Heure", "Hour"),
                _ => lang.pick("Période", "Period"),
            };
            let head = d
                .series
                .iter()
                .map(|s| {
                    let prev_col = (with_prev && !s.previous.is_empty()).then(|| {
                        view! { <th scope="col">{format!("{} ({})", s.label, lang.pick("comparaison", "comparison"))}</th> }
                    });
                    view! {
                        <th scope="col">{s.label.clone()}</th>
                        {prev_col}
                    }
                })
                .collect_view();
            let rows = (0..d.axis.len())
                .map(|i| {
                    let cells = d
                        .series
                        .iter()
                        .map(|s| {
                            let v = s.values.get(i).copied().flatten();
                            let p = (with_prev && !s.previous.is_empty())
                                .then(|| s.previous.get(i).copied().flatten());
                            let fmt = |v: Option<f64>| {
                                v.map(|v| draw::format_value(v, d.unit, lang))
                                    .unwrap_or_else(|| "—".into())
                            };
                            view! {
                                <td>{fmt(v)}</td>
                                {p.map(|p| view! { <td class="muted">{fmt(p)}</td> })}
                            }
                        })
                        .collect_view();
                    let band_cell = d.band.as_ref().map(|b| {
                        let range = b
                            .lower
                            .get(i)
                            .copied()
                            .flatten()
                            .zip(b.upper.get(i).copied().flatten())
                            .map(|(lo, hi)| {
                                format!(
                                    "{} – {}",
                                    draw::format_value(lo, d.unit, lang),
                                    draw::format_value(hi, d.unit, lang)
                                )
                            })
                            .unwrap_or_else(|| "—".into());
                        view! { <td class="muted">{range}</td> }
                    });
                    let label = d.axis.full(i, lang);
                    let link = d.axis.link(i);
                    view! {
                        <tr>
                            <th scope="row">
                                {match link {
                                    Some(q) => {
                                        let q2 = q.clone();
                                        view! {
                                            <a
                                                href=format!("?{q}")
                                                on:click=move |ev| {
                                                    ev.prevent_default();
                                                    drill.run(q2.clone());
                                                }
                                            >
                                                {label}
                                            </a>
                                        }
                                            .into_any()
                                    }
                                    None => label.into_any(),
                                }}
                            </th>
                            {cells}
                            {band_cell}
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="table-scroll">
                    <table>
                        <caption class="visually-hidden">{d.title.clone()}</caption>
                        <thead>
                            <tr>
                                <th scope="col">{first_col}</th>
                                {head}
                                {d.band.as_ref().map(|b| view! { <th scope="col">{b.label.clone()}</th> })}
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
        })
    };
    let file_name = format!("datamag360-{id}.svg");
    let download = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let svg = drawn.with_untracked(|(d, _)| d.as_ref().map(|d| d.svg.clone()));
            let anchor = ev
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlAnchorElement>().ok());
            match (svg, anchor) {
                (Some(svg), Some(a)) => {
                    let encoded: String = js_sys::encode_uri_component(&svg).into();
                    a.set_href(&format!("data:image/svg+xml;charset=utf-8,{encoded}"));
                }
                _ => ev.prevent_default(),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <figure
            class=format!("chart chart-{}", match kind {
                ChartKind::Lines => "lines",
                ChartKind::Bars => "bars",
                ChartKind::Ranking => "ranking",
                ChartKind::Heatmap => "heatmap",
            })
            id=format!("chart-{id}")
            aria-labelledby=title_id.clone()
        >
            <figcaption id=title_id.clone()>{title.clone()}</figcaption>
            <p class="chart-desc muted" id=desc_id.clone()>{description}</p>
            {if is_empty {
                view! { <p class="empty">{empty_message}</p> }.into_any()
            } else {
                view! {
                    {legend}
                    <div
                        class="plot"
                        node_ref=plot
                        tabindex="0"
                        role="group"
                        aria-roledescription=lang.pick("graphique", "chart")
                        aria-label=format!("{title} — {}", lang.pick("flèches pour parcourir les points", "arrow keys walk the points"))
                        aria-describedby=desc_id
                        data-width=move || drawn.with(|(d, _)| d.as_ref().map(|d| d.width).unwrap_or(0).to_string())
                        data-draw-ms=move || format!("{:.2}", drawn.with(|(_, ms)| *ms))
                        on:pointermove=on_move
                        on:pointerdown=on_move
                        on:pointerleave=move |_| active.set(None)
                        on:click=on_click
                        on:keydown=on_key
                        on:blur=move |_| active.set(None)
                    >
                        <div class="svg" inner_html=move || drawn.with(|(d, _)| d.as_ref().map(|d| d.svg.clone()).unwrap_or_default())></div>
                        {tooltip}
                        {pins}
                    </div>
                    {scale}
                    <div class="chart-tools">
                        <details class="chart-table">
                            <summary>{lang.pick("Tableau", "Table")}</summary>
                            {table}
                        </details>
                        <a class="download" href="#" download=file_name on:click=download>
                            {lang.pick("Télécharger (SVG)", "Download (SVG)")}
                        </a>
                    </div>
                }.into_any()
            }}
        </figure>
    }
}
