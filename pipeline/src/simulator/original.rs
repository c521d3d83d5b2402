//! The `original` simulator profile: the original DataMag360's numbers, bit for bit.
//!
//! The original reseeded Python's global `random` module for every value with
//! `random.seed(int(sha256(text).hexdigest(), 16))` and drew from it. This module
//! reimplements exactly what that does in CPython (MT19937 seeded by `init_by_array`,
//! `random()`, `randint` by rejection sampling on `getrandbits`, `uniform`) and the
//! original's formulas, seed texts and quirks, as recorded in SEED.md ("Reproducing the
//! original's numbers exactly"):
//! - hour 19 reads as night (its coefficient is never used for a genuine count);
//! - transactions are drawn from their own visitor figure, not from the sensors' counts.

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::shape::{self, weekday_coef, StoreHour};
use crate::reference::{Sensor, Store};

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// MT19937's `init_genrand(19650218)`, where every `init_by_array` starts.
const INIT_GENRAND: [u32; N] = {
    let mut mt = [0u32; N];
    mt[0] = 19_650_218;
    let mut i = 1;
    while i < N {
        mt[i] = 1_812_433_253u32
            .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
            .wrapping_add(i as u32);
        i += 1;
    }
    mt
};

/// CPython's `random.Random` after `seed(int)`: MT19937 and the few methods the original
/// used. The state is twisted lazily, one word at a time, so a value that needs only a
/// handful of outputs does not pay for the whole 624-word twist (the result is identical:
/// the in-place twist is sequential).
pub struct PyRandom {
    mt: [u32; N],
    /// Next output index within the current block.
    index: usize,
    /// Words of the current block already twisted.
    twisted: usize,
}

impl PyRandom {
    /// `random.seed(n)` for a non-negative integer given as its 32-bit words, least
    /// significant first (CPython drops the high zero words, keeping at least one).
    pub fn from_words(words: &[u32]) -> Self {
        let used = words
            .iter()
            .rposition(|&w| w != 0)
            .map_or(1, |top| top + 1)
            .min(words.len().max(1));
        let key: &[u32] = if words.is_empty() {
            &[0]
        } else {
            &words[..used]
        };
        // init_genrand(19650218), the same for every seed: computed at compile time.
        let mut mt = INIT_GENRAND;
        // init_by_array(key)
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        Self {
            mt,
            index: N,
            twisted: N,
        }
    }

    /// `random.seed(int(hashlib.sha256(text.encode()).hexdigest(), 16))`.
    pub fn from_sha256(text: &str) -> Self {
        let digest = Sha256::digest(text.as_bytes());
        // The hex digest read as a big-endian integer: its least significant 32-bit word
        // is the digest's last four bytes.
        let mut words = [0u32; 8];
        for (k, word) in words.iter_mut().enumerate() {
            let end = 32 - 4 * k;
            *word = u32::from_be_bytes([
                digest[end - 4],
                digest[end - 3],
                digest[end - 2],
                digest[end - 1],
            ]);
        }
        Self::from_words(&words)
    }

    /// One 32-bit output (`genrand_uint32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.index = 0;
            self.twisted = 0;
        }
        while self.twisted <= self.index {
            let kk = self.twisted;
            let y = (self.mt[kk] & UPPER_MASK) | (self.mt[(kk + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.mt[kk] = self.mt[(kk + M) % N] ^ (y >> 1) ^ mag;
            self.twisted += 1;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: a double in [0, 1) from 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for 1 ≤ k ≤ 32.
    fn getrandbits(&mut self, k: u32) -> u32 {
        self.next_u32() >> (32 - k)
    }

    /// `randint(a, b)` = `a + _randbelow(b - a + 1)`, rejection sampling on `getrandbits`.
    /// Spans up to 2^32 values, far more than the original's draws need.
    pub fn randint(&mut self, a: i64, b: i64) -> i64 {
        let n = (b - a + 1).clamp(1, 1 << 32) as u64;
        let k = 64 - n.leading_zeros();
        if k > 32 {
            // Only n = 2^32 reaches here: one full word is uniform on it.
            return a + self.next_u32() as i64;
        }
        loop {
            let r = self.getrandbits(k) as u64;
            if r < n {
                return a + r as i64;
            }
        }
    }

    /// `uniform(a, b)` = `a + (b - a) * random()`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.random()
    }
}

/// The original's hour coefficients: the simulator's opening-hour ones, and 1.0 for the
/// hours the original's table did not list.
fn hour_coef(hour: u32) -> f64 {
    shape::hour_coef(hour).unwrap_or(1.0)
}

/// What the original's raw sensor draw produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawCount {
    /// A night reading (hours < 9 or ≥ 19): 0, or rarely 1–3.
    Night(i64),
    /// A genuine open-hour count, 90–120.
    Genuine(i64),
    /// The missing-reading fault (`null`).
    Missing,
    /// The high-outlier fault, 900–1200.
    High(i64),
    /// The low-outlier fault, 1–2.
    Low(i64),
}

/// The raw count of one sensor for one local hour, as the original drew it.
pub fn raw_count(store_id: u32, sensor_id: u32, date: NaiveDate, hour: u32) -> RawCount {
    let text = format!("{date}-{hour:02}:00 {sensor_id} - {store_id}");
    let mut rng = PyRandom::from_sha256(&text);
    if !(9..19).contains(&hour) {
        return if rng.random() > 0.001 {
            RawCount::Night(0)
        } else {
            RawCount::Night(rng.randint(1, 3))
        };
    }
    if rng.random() > 0.08 {
        return RawCount::Genuine(rng.randint(90, 120));
    }
    let c = rng.random();
    if c < 0.5 {
        RawCount::Missing
    } else if c < 0.75 {
        RawCount::High(rng.randint(900, 1200))
    } else {
        RawCount::Low(rng.randint(1, 2))
    }
}

/// One sensor's value for one local hour as the original API answered it: `None` on a
/// weekend (the original's -1), `Some(None)` for a missing reading.
pub fn sensor_value(
    store: &Store,
    sensor: &Sensor,
    date: NaiveDate,
    hour: u32,
) -> Option<(RawCount, Option<i64>)> {
    let day_coef = weekday_coef(date)?;
    let raw = raw_count(store.store_id, sensor.sensor_id, date, hour);
    let count = match raw {
        RawCount::Missing => return Some((raw, None)),
        RawCount::Night(v) | RawCount::Genuine(v) | RawCount::High(v) | RawCount::Low(v) => v,
    };
    // The original starts from 1.0 and multiplies in this order (same rounding).
    let mut coef = store.coef * sensor.coef * day_coef * hour_coef(hour);
    let text = format!(
        "{}-{}-{date}-{hour:02}:00",
        store.store_id, sensor.sensor_id
    );
    coef *= PyRandom::from_sha256(&text).uniform(0.95, 1.05);
    Some((raw, Some((count as f64 * coef) as i64)))
}

/// The original's transactions for one store and local hour: `None` on a weekend.
/// Gives the transactions, the revenue in euros and the store visitor figure they came
/// from. Outside opening hours the store sells nothing.
pub fn store_sales(
    store: &Store,
    sensors: &[Sensor],
    date: NaiveDate,
    hour: u32,
) -> Option<StoreHour> {
    let day_coef = weekday_coef(date)?;
    if !crate::calendar::is_open_hour(hour) {
        return Some(StoreHour {
            transactions: 0,
            chiffre_affaires: 0.0,
            visitors: 0,
        });
    }
    let text = format!(
        "{}/{}/{}-{hour}-{}",
        date.day(),
        date.month(),
        date.year(),
        store.store_id
    );
    let mut rng = PyRandom::from_sha256(&text);
    let v = rng.randint(90, 120) as f64;
    let base = v * store.coef * day_coef * hour_coef(hour);
    let coef_sum = sensors.iter().fold(0.0, |acc, s| acc + s.coef);
    let total = (base * coef_sum) as i64;
    let n = (total as f64 * rng.uniform(0.15, 0.30)) as i64;
    let mut revenue = 0.0;
    for _ in 0..n {
        revenue += rng.uniform(10.0, 120.0);
    }
    Some(StoreHour {
        transactions: n,
        chiffre_affaires: round_cents(revenue),
        visitors: total,
    })
}

/// Python's `round(x, 2)`: the correctly rounded two-decimal value (ties to even on the
/// exact binary value), read back as the nearest double.
pub fn round_cents(x: f64) -> f64 {
    format!("{x:.2}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPython 3: `random.seed(0); [random.getrandbits(32) for _ in range(3)]` and
    /// `random.seed(0); random.random()`.
    #[test]
    fn matches_cpython_for_small_seeds() {
        let mut r = PyRandom::from_words(&[0]);
        assert_eq!(
            [r.next_u32(), r.next_u32(), r.next_u32()],
            [3_626_764_237, 1_654_615_998, 3_255_389_356]
        );
        let mut r = PyRandom::from_words(&[0]);
        assert_eq!(r.random(), 0.8444218515250481);
        let mut r = PyRandom::from_words(&[42]);
        assert_eq!(r.random(), 0.6394267984578837);
        // randint(1, 10) after seed(42): 2, 1, 5 in CPython 3.
        let mut r = PyRandom::from_words(&[42]);
        assert_eq!(
            [r.randint(1, 10), r.randint(1, 10), r.randint(1, 10)],
            [2, 1, 5]
        );
    }

    #[test]
    fn the_lazy_twist_equals_the_full_one_past_a_block() {
        let mut r = PyRandom::from_words(&[1, 2, 3]);
        let lazy: Vec<u32> = (0..1500).map(|_| r.next_u32()).collect();
        // Reference: twist whole blocks at once.
        let mut s = PyRandom::from_words(&[1, 2, 3]);
        let mut full = Vec::new();
        for _ in 0..3 {
            for kk in 0..N {
                let y = (s.mt[kk] & UPPER_MASK) | (s.mt[(kk + 1) % N] & LOWER_MASK);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                s.mt[kk] = s.mt[(kk + M) % N] ^ (y >> 1) ^ mag;
            }
            for &w in &s.mt {
                let mut y = w;
                y ^= y >> 11;
                y ^= (y << 7) & 0x9d2c_5680;
                y ^= (y << 15) & 0xefc6_0000;
                full.push(y ^ (y >> 18));
            }
        }
        assert_eq!(lazy[..], full[..1500]);
    }

    #[test]
    fn high_zero_words_are_dropped_as_cpython_does() {
        let a = PyRandom::from_words(&[7, 0, 0]).next_u32();
        let b = PyRandom::from_words(&[7]).next_u32();
        assert_eq!(a, b);
    }

    #[test]
    fn rounding_is_pythons() {
        assert_eq!(round_cents(4615.234999), 4615.23);
        assert_eq!(round_cents(0.125), 0.12);
        assert_eq!(round_cents(2.675), 2.67);
        assert_eq!(round_cents(0.0), 0.0);
    }
}
