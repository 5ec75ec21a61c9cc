//! Fixed-point text for floats, through integers: `fixed(v, 2)` is exactly `format!("{v:.2}")`
//! (the same digits, the same rounding of ties to even, `-0.0`, `NaN`, `inf`), without the
//! standard library's float formatting, which is about 20 KB of wasm (Grisu and Dragon, for
//! `f32` and `f64`, shortest and exact). Nothing in the page formats a float any other way.

use std::fmt::Write;

/// `v` with `decimals` digits after the point, as `format!("{v:.decimals$}")` (exact while
/// `decimals` is at most 9 and `|v| * 10^decimals` fits in a `u64`).
pub fn fixed(v: f64, decimals: u8) -> String {
    let mut out = String::new();
    push_fixed(&mut out, v, decimals);
    out
}

/// A simulated time in seconds with milliseconds, as `format!("{:.3} s", us as f64 / 1e6)`.
pub fn seconds(us: u64) -> String {
    let mut out = fixed(us as f64 / 1e6, 3);
    out.push_str(" s");
    out
}

/// `v` as `format!("{v}")` where `v` has at most 4 decimals (a percentage from parts per
/// million, milliseconds from microseconds): its fixed digits without trailing zeros.
pub fn short(v: f64) -> String {
    let mut out = fixed(v, 4);
    let kept = out.trim_end_matches('0').trim_end_matches('.').len();
    out.truncate(kept);
    out
}

/// Appends `fixed(v, decimals)` to `out`.
pub fn push_fixed(out: &mut String, v: f64, decimals: u8) {
    debug_assert!(decimals <= 9, "fixed() is exact up to 9 decimals");
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    if v.is_infinite() {
        out.push_str("inf");
        return;
    }
    let scale = 10u64.pow(u32::from(decimals));
    let q = scaled_round(v.abs(), scale);
    let _ = write!(out, "{}", q / scale);
    if decimals > 0 {
        let _ = write!(out, ".{:0width$}", q % scale, width = usize::from(decimals));
    }
}

/// `|v| * scale` rounded to the nearest integer, ties to even, computed exactly from `v`'s bits
/// (saturating at `u64::MAX`, far beyond anything the page shows).
fn scaled_round(v: f64, scale: u64) -> u64 {
    let bits = v.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // v = mantissa * 2^power exactly.
    let (mantissa, power) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), exponent - 1075)
    };
    if power >= 0 {
        return (mantissa << power.min(11)).saturating_mul(scale);
    }
    // mantissa < 2^53 and scale <= 10^9 < 2^30, so this fits in 83 bits.
    let scaled = u128::from(mantissa) * u128::from(scale);
    let shift = power.unsigned_abs();
    if shift > 100 {
        return 0; // below 2^-17, not a tie
    }
    let q = scaled >> shift;
    let rem = scaled & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    let q = if rem > half || (rem == half && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    u64::try_from(q).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::{fixed, short};

    fn check(v: f64) {
        for d in 0..=4u8 {
            let expected = format!("{v:.prec$}", prec = usize::from(d));
            assert_eq!(fixed(v, d), expected, "{v:e} with {d} decimals");
        }
    }

    #[test]
    fn matches_the_standard_formatting() {
        for v in [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            0.25,
            0.125,
            0.375,
            0.05,
            0.15,
            0.0625,
            1.0e-5,
            -1.0e-5,
            0.00005,
            0.00015,
            99.95,
            99.96,
            1234.5678,
            1e15,
            5e-324,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            check(v);
        }
        // Many values, among them every exact tie of each precision (k/2 at each scale).
        for k in -20_000i32..20_000 {
            check(f64::from(k) / 2.0e4);
            check(f64::from(k) / 1.0e3);
            check(f64::from(k) * 0.37);
            check(f64::from(k) / 7.0);
        }
        // f32 values shown through f64 keep their digits.
        for k in 0..10_000u16 {
            let x = f32::from(k) / 9_999.0;
            assert_eq!(fixed(f64::from(x), 2), format!("{x:.2}"));
        }
        let mut x = 1u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            check((x >> 11) as f64 / (1u64 << 40) as f64 * 1000.0 - 500.0);
        }
    }

    #[test]
    fn short_matches_the_standard_display_for_four_decimals() {
        for k in -200_000i32..200_000 {
            for scale in [1.0, 10.0, 1e3, 1e4] {
                let v = f64::from(k) / scale;
                assert_eq!(short(v), format!("{v}"), "{k} / {scale}");
            }
        }
        assert_eq!(short(-2.0), "-2");
        assert_eq!(short(0.0), "0");
    }
}
