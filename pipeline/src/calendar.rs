//! When the stores are open. Plain data, compiled for the browser too.

use std::ops::RangeInclusive;

/// Opening hours: 09:00 to 20:00, i.e. the hours starting 9..=19.
pub const OPENING_HOURS: RangeInclusive<u32> = 9..=19;
