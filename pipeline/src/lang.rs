//! The language of the messages a person reads: French first, English available
//! (`lang=en` in a URL). Plain data, compiled for the browser too.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn from_code(code: Option<&str>) -> Self {
        match code.map(str::trim) {
            Some(c) if c.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Picks the French or the English text.
    pub fn pick(self, fr: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}
