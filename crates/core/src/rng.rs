//! The run's one seeded generator, forked into independent streams.
//!
//! ChaCha8 is value-stable across platforms and versions of `rand_chacha` (its output is fixed
//! by the algorithm), so the same seed gives the same run natively and on wasm32. Each node,
//! the network and the clients draw from their own stream, so adding a draw in one place never
//! shifts the numbers another place sees.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng};

/// Stream numbers below this are node ids; the fixed streams sit above.
const STREAM_NETWORK: u64 = 1 << 32;
const STREAM_CLIENTS: u64 = (1 << 32) + 1;

/// A deterministic random stream.
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    fn stream(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        SimRng(rng)
    }
    /// The stream of node `id`.
    pub fn for_node(seed: u64, id: crate::NodeId) -> Self {
        Self::stream(seed, u64::from(id))
    }
    /// The stream of the network (latency, loss, duplication).
    pub fn for_network(seed: u64) -> Self {
        Self::stream(seed, STREAM_NETWORK)
    }
    /// The stream of the simulated clients.
    pub fn for_clients(seed: u64) -> Self {
        Self::stream(seed, STREAM_CLIENTS)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A value in `lo..=hi`. The modulo bias is below 2^-40 for the ranges used here and,
    /// unlike a rejection loop, the number of draws is fixed, which keeps streams aligned.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        lo + self.next_u64() % (span + 1)
    }

    /// True with probability `ppm` parts per million.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        // Always draw, so that the stream does not depend on whether the rate is zero.
        let draw = self.next_u64() % 1_000_000;
        draw < u64::from(ppm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let mut a = SimRng::for_node(7, 1);
        let mut b = SimRng::for_node(7, 1);
        let mut c = SimRng::for_node(7, 2);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn value_stable_golden() {
        // Pinned so that a change of generator (or of its version) cannot pass unnoticed:
        // every golden trace depends on these numbers.
        let mut r = SimRng::for_node(42, 3);
        let got = r.range_inclusive(150_000, 300_000);
        assert_eq!(got, GOLDEN_FIRST_DRAW);
    }

    const GOLDEN_FIRST_DRAW: u64 = 259_492;
}
