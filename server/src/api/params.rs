//! Query-string parsing and validation shared by the API endpoints. Parsing is done by
//! hand (not with serde) so that every bad input gets its own clear French message.

use chrono::NaiveDate;
use pipeline::availability::{self, Unavailable};
pub use pipeline::filter::lax_int;
use pipeline::{Reference, Sensor, Store};

use super::error::ApiError;

/// Parameters the API understands. Unknown parameters are ignored, as the original did.
const KNOWN: [&str; 6] = ["city_store", "year", "month", "day", "hour", "sensor_id"];

/// The parsed query string.
#[derive(Debug, Default)]
pub struct Params {
    values: [Option<String>; 6],
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut params = Params::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if let Some(i) = KNOWN.iter().position(|k| *k == key) {
                if params.values[i].is_some() {
                    return Err(ApiError::duplicate(KNOWN[i]));
                }
                params.values[i] = Some(value.into_owned());
            }
        }
        Ok(params)
    }

    fn get(&self, name: &'static str) -> Option<&str> {
        KNOWN
            .iter()
            .position(|k| *k == name)
            .and_then(|i| self.values[i].as_deref())
    }

    /// The store named by `city_store` (required, case-insensitive).
    pub fn store<'r>(&self, reference: &'r Reference) -> Result<&'r Store, ApiError> {
        let city = self
            .get("city_store")
            .ok_or_else(|| ApiError::missing("city_store"))?;
        let city = city.trim();
        if city.is_empty() {
            return Err(ApiError::invalid(
                "city_store",
                "Le paramètre « city_store » est vide.".into(),
            ));
        }
        reference.store_by_city(city).ok_or_else(|| {
            let known: Vec<&str> = reference
                .stores()
                .iter()
                .take(12)
                .map(|s| s.city_store.as_str())
                .collect();
            let more = if reference.stores().len() > known.len() {
                ", …"
            } else {
                ""
            };
            ApiError::not_found(
                "unknown_store",
                Some("city_store"),
                format!(
                    "Magasin inconnu : « {} ». Magasins disponibles : {}{more}.",
                    truncate(city),
                    known.join(", ")
                ),
            )
        })
    }

    /// An optional integer parameter within `min..=max`.
    pub fn int(&self, name: &'static str, min: u32, max: u32) -> Result<Option<u32>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        let out_of_range = || {
            let expected = if max == u32::MAX {
                format!("un entier à partir de {min}")
            } else {
                format!("un entier entre {min} et {max}")
            };
            ApiError::invalid(
                name,
                format!(
                    "Le paramètre « {name} » doit être {expected} (reçu : « {} »).",
                    truncate(text)
                ),
            )
        };
        match lax_int(text).map(u32::try_from) {
            Some(Ok(v)) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(out_of_range()),
        }
    }

    pub fn required_int(&self, name: &'static str, min: u32, max: u32) -> Result<u32, ApiError> {
        self.int(name, min, max)?
            .ok_or_else(|| ApiError::missing(name))
    }

    /// `year`, `month` and `day`: all three or none.
    pub fn date(&self) -> Result<Option<NaiveDate>, ApiError> {
        let year = self.int("year", 1, 9999)?;
        let month = self.int("month", 1, 12)?;
        let day = self.int("day", 1, 31)?;
        match (year, month, day) {
            (None, None, None) => Ok(None),
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "invalid_date",
                        format!("La date {d:02}/{m:02}/{y:04} n'existe pas."),
                    )
                }),
            _ => Err(ApiError::unprocessable(
                "partial_date",
                "Une date se donne en entier : « year », « month » et « day » ensemble, ou aucun des trois."
                    .into(),
            )),
        }
    }

    /// The required date of endpoints that need one.
    pub fn required_date(&self) -> Result<NaiveDate, ApiError> {
        for name in ["year", "month", "day"] {
            if self.get(name).is_none() {
                return Err(ApiError::missing(name));
            }
        }
        self.date()?.ok_or_else(|| ApiError::missing("year"))
    }

    /// The optional `hour` (0..=23), which needs a date.
    pub fn hour(&self, has_date: bool) -> Result<Option<u32>, ApiError> {
        let hour = self.int("hour", 0, 23)?;
        if hour.is_some() && !has_date {
            return Err(ApiError::unprocessable(
                "hour_without_date",
                "Le paramètre « hour » demande une date (« year », « month », « day »).".into(),
            ));
        }
        Ok(hour)
    }

    /// The optional `sensor_id`, which must belong to `store`.
    pub fn sensor<'r>(
        &self,
        reference: &'r Reference,
        store: &Store,
    ) -> Result<Option<&'r Sensor>, ApiError> {
        let Some(id) = self.int("sensor_id", 1, u32::MAX)? else {
            return Ok(None);
        };
        reference
            .sensor(store.store_id, id)
            .map(Some)
            .ok_or_else(|| {
                let count = reference.sensors_of(store.store_id).len();
                ApiError::not_found(
                    "unknown_sensor",
                    Some("sensor_id"),
                    format!(
                        "Capteur inconnu : le magasin {} n'a pas de capteur {id} (capteurs 1 à {count}).",
                        store.city_store
                    ),
                )
            })
    }
}

/// Refuses dates and hours the simulator does not serve yet (or any more).
pub fn ensure_available(
    date: NaiveDate,
    hour: Option<u32>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    availability::check(date, hour, now).map_err(|e| match e {
        Unavailable::BeforeFirstDate { first } => ApiError::not_found(
            "before_first_date",
            None,
            format!(
                "Pas de données avant le {}.",
                first.format("%d/%m/%Y")
            ),
        ),
        Unavailable::InFuture => ApiError::not_found(
            "in_future",
            None,
            "Cette date est dans le futur : pas encore de données.".into(),
        ),
        Unavailable::NotYet { latest } => ApiError::not_found(
            "not_yet_available",
            None,
            format!(
                "Pas encore disponible : la dernière heure disponible est {} à {:02}h (heure de Paris).",
                latest.date.format("%d/%m/%Y"),
                latest.hour
            ),
        ),
    })
}

/// Keeps echoed user input short in messages.
fn truncate(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::lax_int;

    #[test]
    fn integers_are_read_as_the_original_read_them() {
        for (text, want) in [
            ("12", 12),
            ("+12", 12),
            (" 12 ", 12),
            ("\t7\n", 7),
            ("1.0", 1),
            ("2024.0", 2024),
            ("12.00", 12),
            ("12.", 12),
            ("007", 7),
            ("-0", 0),
            ("-3", -3),
            ("+0.000", 0),
            ("000000000000000000000000000000000001", 1),
        ] {
            assert_eq!(lax_int(text), Some(want), "{text:?}");
        }
        for text in [
            "",
            " ",
            "+",
            "-",
            ".",
            ".0",
            "1.5",
            "1.01",
            "1e3",
            "1E3",
            "0x10",
            "１２",
            "1_000",
            "1 2",
            "++1",
            "+-1",
            "12a",
            "NaN",
            "inf",
            "1.0.0",
            "99999999999999999999",
        ] {
            assert_eq!(lax_int(text), None, "{text:?}");
        }
    }
}
