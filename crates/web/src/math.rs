//! The few transcendental functions the page needs, from the browser's `Math` on wasm (the
//! Rust ones compile the libm routines into the bundle, about 7 KB of wasm) and from `std`
//! natively, where the tests run. Both are fdlibm-style and agree to the last bit or so; the
//! page shows their results rounded to a tenth of a pixel or a degree.

#[cfg(target_arch = "wasm32")]
mod imp {
    use js_sys::Math;

    pub fn sin(x: f64) -> f64 {
        Math::sin(x)
    }
    pub fn cos(x: f64) -> f64 {
        Math::cos(x)
    }
    pub fn atan2(y: f64, x: f64) -> f64 {
        Math::atan2(y, x)
    }
    pub fn hypot(x: f64, y: f64) -> f64 {
        Math::hypot(x, y)
    }
    pub fn pow(x: f64, y: f64) -> f64 {
        Math::pow(x, y)
    }
    pub fn log10(x: f64) -> f64 {
        Math::log10(x)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub fn sin(x: f64) -> f64 {
        x.sin()
    }
    pub fn cos(x: f64) -> f64 {
        x.cos()
    }
    pub fn atan2(y: f64, x: f64) -> f64 {
        y.atan2(x)
    }
    pub fn hypot(x: f64, y: f64) -> f64 {
        x.hypot(y)
    }
    pub fn pow(x: f64, y: f64) -> f64 {
        x.powf(y)
    }
    pub fn log10(x: f64) -> f64 {
        x.log10()
    }
}

pub use imp::{atan2, cos, hypot, log10, pow, sin};

/// `x` held within `lo..=hi` (`lo` wins if the range is empty). `f64::clamp` asserts
/// `lo <= hi` with a message that formats both bounds, which brings Rust's float formatting
/// (about 5 KB of gzipped wasm) into every page when the bounds are not constants.
pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    x.min(hi).max(lo)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clamp_holds_within_the_bounds_and_never_panics() {
        assert_eq!(super::clamp(5.0, 0.0, 1.0), 1.0);
        assert_eq!(super::clamp(-5.0, 0.0, 1.0), 0.0);
        assert_eq!(super::clamp(0.25, 0.0, 1.0), 0.25);
        assert_eq!(super::clamp(0.5, 40.0, 30.0), 40.0, "an empty range gives its low end");
    }
}
