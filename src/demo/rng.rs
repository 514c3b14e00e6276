//! The demo generator's random numbers: splitmix64 from one fixed seed, so
//! every run draws the same county.

use std::f64::consts::TAU;

/// splitmix64: tiny, well-distributed, and needs no crate or OS entropy.
pub(super) struct SplitMix64(pub(super) u64);

impl SplitMix64 {
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi]. Modulo bias is ~1e-17 for these tiny ranges.
    pub(super) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi);
        lo + (self.next_u64() % (u64::from(hi - lo) + 1)) as u32
    }

    /// Uniform in [-half, half].
    pub(super) fn jitter(&mut self, half: f64) -> f64 {
        (self.unit() * 2.0 - 1.0) * half
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items` (all the tables passed here are non-empty constants).
    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let draw = self.next_u64();
        draw.checked_rem(items.len() as u64)
            .and_then(|i| items.get(i as usize))
            .copied()
            .unwrap_or_default()
    }

    pub(super) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next_u64() % 10) as u8))
            .collect()
    }

    /// Standard normal via Box–Muller.
    pub(super) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1], keeps ln finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }
}
