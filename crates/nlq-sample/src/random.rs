//! Seeded randomness. Every user and every session draws from its own ChaCha stream derived
//! from the run seed and its index, so days can be built on any thread in any order and the
//! output stays the same.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) type Stream = ChaCha8Rng;

/// What a derived stream is for; keeps the user and session streams of one index unrelated.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    User = 1,
    Session = 2,
    Catalog = 3,
    Orders = 4,
    /// The app-web profile's users and sessions (the public sample never draws from them).
    AppUser = 5,
    AppSession = 6,
}

/// SplitMix64's finaliser: neighbouring inputs give unrelated outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn derive(seed: u64, purpose: Purpose, index: u64) -> u64 {
    mix(mix(seed ^ mix(purpose as u64)) ^ index)
}

pub(crate) fn stream(seed: u64) -> Stream {
    ChaCha8Rng::seed_from_u64(seed)
}

pub(crate) fn uniform(rng: &mut impl Rng) -> f64 {
    rng.random::<f64>()
}

pub(crate) fn between(rng: &mut impl Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * uniform(rng)
}

/// `true` with probability `p` (any `p`; values outside 0..1 saturate).
pub(crate) fn chance(rng: &mut impl Rng, p: f64) -> bool {
    uniform(rng) < p
}

pub(crate) fn exponential(rng: &mut impl Rng, mean: f64) -> f64 {
    -mean * (1.0 - uniform(rng)).ln()
}

/// Standard normal by Box-Muller.
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub(crate) fn lognormal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// Number of successes before the first failure, each continuing with probability `p`.
pub(crate) fn geometric(rng: &mut impl Rng, p: f64, cap: u32) -> u32 {
    let mut n = 0;
    while n < cap && chance(rng, p) {
        n += 1;
    }
    n
}

/// Picks from a small weighted table by a linear scan. Tables are static and non-empty.
pub(crate) fn pick<T: Copy>(rng: &mut impl Rng, table: &[(T, f64)]) -> T {
    let total: f64 = table.iter().map(|(_, w)| w).sum();
    let mut x = uniform(rng) * total;
    for &(value, weight) in table {
        if x < weight {
            return value;
        }
        x -= weight;
    }
    table[table.len() - 1].0
}

/// Picks indices from a large weighted set by binary search over cumulative weights.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cumulative }
    }

    /// An index in `0..len`; 0 for an empty set, which callers never build.
    pub(crate) fn pick(&self, rng: &mut impl Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = uniform(rng) * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_streams_are_stable_and_distinct() {
        let a = derive(7, Purpose::User, 1);
        assert_eq!(a, derive(7, Purpose::User, 1));
        assert_ne!(a, derive(7, Purpose::User, 2));
        assert_ne!(a, derive(7, Purpose::Session, 1));
        assert_ne!(a, derive(8, Purpose::User, 1));
        let x: u64 = stream(a).random();
        let y: u64 = stream(a).random();
        assert_eq!(x, y);
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let w = Weighted::new([1.0, 0.0, 3.0]);
        let mut rng = stream(1);
        let mut counts = [0u32; 3];
        for _ in 0..20_000 {
            counts[w.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 20_000.0;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        let table = [("a", 1.0), ("b", 1.0)];
        let mut a = 0;
        for _ in 0..10_000 {
            if pick(&mut rng, &table) == "a" {
                a += 1;
            }
        }
        assert!((4_700..5_300).contains(&a), "{a}");
    }

    #[test]
    fn distributions_have_their_means() {
        let mut rng = stream(2);
        let n = 50_000;
        let exp: f64 = (0..n).map(|_| exponential(&mut rng, 3.0)).sum::<f64>() / f64::from(n);
        assert!((exp - 3.0).abs() < 0.1, "{exp}");
        let geo: f64 = (0..n)
            .map(|_| f64::from(geometric(&mut rng, 0.5, 100)))
            .sum::<f64>()
            / f64::from(n);
        assert!((geo - 1.0).abs() < 0.05, "{geo}");
        let mut logs: Vec<f64> = (0..n).map(|_| lognormal(&mut rng, 30.0, 0.8)).collect();
        logs.sort_by(f64::total_cmp);
        let median = logs[logs.len() / 2];
        assert!((median - 30.0).abs() < 1.5, "{median}");
    }
}
