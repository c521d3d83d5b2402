//! Number and date formatting in French (first) or English.

use crate::i18n::Lang;

/// Groups thousands: `12 345` (fr, narrow no-break space) or `12,345` (en).
pub fn int(n: i64, lang: Lang) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match lang {
        Lang::Fr => '\u{202f}',
        Lang::En => ',',
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A decimal with `decimals` digits: `1 534,87` (fr) or `1,534.87` (en).
pub fn decimal(x: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{:.*}", decimals, x.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let whole: i64 = whole.parse().unwrap_or(0);
    let mut out = int(whole, lang);
    if decimals > 0 {
        out.push(match lang {
            Lang::Fr => ',',
            Lang::En => '.',
        });
        out.push_str(frac);
    }
    if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("-{out}")
    } else {
        out
    }
}

/// Euros: `1 534,87 €` (fr) or `€1,534.87` (en).
pub fn euros(x: f64, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{}\u{a0}€", decimal(x, 2, lang)),
        Lang::En => format!("€{}", decimal(x, 2, lang)),
    }
}

/// A ratio as a percentage: `22,5 %` (fr) or `22.5%` (en).
pub fn percent(ratio: f64, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{}\u{a0}%", decimal(ratio * 100.0, 1, lang)),
        Lang::En => format!("{}%", decimal(ratio * 100.0, 1, lang)),
    }
}

/// A signed relative change: `+12,0 %`.
pub fn change(ratio: f64, lang: Lang) -> String {
    let sign = if ratio > 0.0 { "+" } else { "" };
    format!("{sign}{}", percent(ratio, lang))
}

/// The weekday's name: `lundi` / `Monday`, or short: `lun.` / `Mon`.
pub fn weekday(d: chrono::Weekday, short: bool, lang: Lang) -> &'static str {
    const FR: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    const FR_SHORT: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
    const EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const EN_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let names = match (lang, short) {
        (Lang::Fr, false) => &FR,
        (Lang::Fr, true) => &FR_SHORT,
        (Lang::En, false) => &EN,
        (Lang::En, true) => &EN_SHORT,
    };
    names[d.num_days_from_monday() as usize]
}

/// `YYYY-MM-DD` → `14/10/2024` (fr) or `2024-10-14` (en).
pub fn date(iso: &str, lang: Lang) -> String {
    match (lang, iso.split('-').collect::<Vec<_>>().as_slice()) {
        (Lang::Fr, [y, m, d]) => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}

/// A Paris time `YYYY-MM-DD HH:MM` in the page's language: `07/12/2026 10:00`.
pub fn date_time(t: &str, l: Lang) -> String {
    match t.split_once([' ', 'T']) {
        Some((d, h)) => format!("{} {h}", date(d, l)),
        None => date(t, l),
    }
}

/// A Unix time (seconds) in UTC with a chrono `pattern` (`%Y-%m-%d`); empty when out of
/// range.
pub fn utc(ts: i64, pattern: &str) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format(pattern).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_and_english_numbers() {
        assert_eq!(int(1234567, Lang::Fr), "1\u{202f}234\u{202f}567");
        assert_eq!(int(999, Lang::En), "999");
        assert_eq!(int(-1000, Lang::En), "-1,000");
        assert_eq!(euros(1534.87, Lang::Fr), "1\u{202f}534,87\u{a0}€");
        assert_eq!(euros(1534.87, Lang::En), "€1,534.87");
        assert_eq!(percent(0.2254, Lang::Fr), "22,5\u{a0}%");
        assert_eq!(change(-0.05, Lang::En), "-5.0%");
        assert_eq!(date("2024-10-14", Lang::Fr), "14/10/2024");
        assert_eq!(weekday(chrono::Weekday::Wed, true, Lang::Fr), "mer.");
        assert_eq!(weekday(chrono::Weekday::Mon, false, Lang::En), "Monday");
    }
}
