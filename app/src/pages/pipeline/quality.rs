//! The daily quality figures, explained.

use leptos::prelude::*;

use super::wire::QualityRow;
use crate::format;
use crate::i18n::Lang;

#[component]
pub(super) fn QualityTable(rows: Vec<QualityRow>, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let num = move |n: i64| format::int(n, l);
    view! {
        <section class="card" id="quality">
            <h2>{l.pick("Qualité des données par jour", "Data quality per day")}</h2>
            <p class="muted">
                {l.pick(
                    "Relevés des capteurs et des ventes, tels que reçus puis nettoyés la nuit.",
                    "Sensor and sales readings, as received and then cleaned at night.",
                )}
            </p>
            <div class="table-scroll">
                <table class="data quality">
                    <thead>
                        <tr>
                            <th>"Date"</th>
                            <th class="num">{l.pick("Relevés reçus", "Readings received")}</th>
                            <th class="num expected">{l.pick("Heures de fermeture (écartées, normal)", "Closed hours (set aside, expected)")}</th>
                            <th class="num">{l.pick("Sans valeur (écartés)", "No value (dropped)")}</th>
                            <th class="num">{l.pick("Valeurs aberrantes corrigées", "Outliers corrected")}</th>
                            <th class="num">{l.pick("Créneaux manquants complétés", "Missing slots filled")}</th>
                            <th class="num">{l.pick("Créneaux non complétables", "Slots that could not be filled")}</th>
                            <th class="num">{l.pick("Relevés illisibles ou en double (rejetés)", "Unreadable or duplicate readings (rejected)")}</th>
                            <th class="num">{l.pick("Lignes publiées", "Rows published")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|q| {
                                view! {
                                    <tr data-date=q.date.clone()>
                                        <td>{format::date(&q.date, l)}</td>
                                        <td class="num">{num(q.rows_in)}</td>
                                        <td class="num expected">{num(q.closed)}</td>
                                        <td class="num">{num(q.nulls)}</td>
                                        <td class="num">{num(q.outliers)}</td>
                                        <td class="num">{num(q.filled)}</td>
                                        <td class="num">{num(q.unfillable)}</td>
                                        <td class="num">{num(q.rejected)}</td>
                                        <td class="num">{num(q.rows_out)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <dl class="quality-legend">
                <dt>{l.pick("Heures de fermeture", "Closed hours")}</dt>
                <dd>
                    {l.pick(
                        "Relevés des heures où les magasins sont fermés (avant 9 h, après 19 h, le week-end) : mis de côté comme prévu, ce n'est pas une anomalie.",
                        "Readings of hours when the stores are closed (before 9:00, after 19:00, weekends): set aside as planned, not a fault.",
                    )}
                </dd>
                <dt>{l.pick("Sans valeur", "No value")}</dt>
                <dd>{l.pick("Relevés arrivés vides ; le créneau est ensuite complété si possible.", "Readings that arrived empty; the slot is then filled when possible.")}</dd>
                <dt>{l.pick("Valeurs aberrantes", "Outliers")}</dt>
                <dd>{l.pick("Plus de 3 fois ou moins du quart de la médiane du capteur ce jour-là ; remplacées comme un créneau manquant.", "Above 3 times or below a quarter of the sensor's median that day; replaced like a missing slot.")}</dd>
                <dt>{l.pick("Créneaux complétés / non complétables", "Slots filled / not fillable")}</dt>
                <dd>{l.pick("Heures d'ouverture sans relevé utilisable, complétées d'après le profil horaire du capteur (même jour de semaine et même heure des 4 semaines précédentes, à l'échelle du jour), ou laissées vides faute de relevé valide ce jour-là.", "Opening hours without a usable reading, filled following the sensor's hourly profile (same weekday and hour over the 4 weeks before, scaled to the day), or left empty when the day has no valid reading.")}</dd>
                <dt>{l.pick("Illisibles ou en double", "Unreadable or duplicate")}</dt>
                <dd>{l.pick("Date ou heure illisible, magasin ou capteur inconnu, relevé en double, valeur hors des bornes plausibles.", "Unreadable date or hour, unknown store or sensor, duplicate reading, value outside plausible bounds.")}</dd>
            </dl>
        </section>
    }
    .into_any()
}
