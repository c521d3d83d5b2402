//! Robust statistics for the baselines: the median and the median absolute deviation.

/// The median (mean of the two middle values for an even count); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The median absolute deviation from `center`, scaled by 1.4826 so that it estimates the
/// standard deviation of normal data; `None` when empty.
pub fn mad(values: &[f64], center: f64) -> Option<f64> {
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median(&mut deviations).map(|m| m * 1.4826)
}

/// Median and scaled MAD of `values` (in any order).
pub fn median_mad(values: &[f64]) -> Option<(f64, f64)> {
    let mut sorted = values.to_vec();
    let m = median(&mut sorted)?;
    Some((m, mad(values, m)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_resist_an_outlier() {
        let values = [10.0, 11.0, 9.0, 10.0, 1000.0];
        let (m, d) = median_mad(&values).expect("values");
        assert_eq!(m, 10.0);
        assert!((d - 1.4826).abs() < 1e-9, "{d}");
        assert_eq!(median(&mut [1.0, 3.0]), Some(2.0));
        assert_eq!(median(&mut []), None);
    }
}
