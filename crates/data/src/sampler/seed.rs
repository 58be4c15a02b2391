//! Per-sample random number generators.
//!
//! Every random choice of a sample comes from one generator keyed by
//! `(seed, stream, epoch, index)`, so a sample does not depend on which
//! thread builds it or on what other samples were built before it.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Stream of the training sampler.
pub const TRAIN_STREAM: u64 = 0;
/// Stream of the validation sampler, so that it never repeats training draws.
pub const VALIDATION_STREAM: u64 = 1;

/// Returns the generator of sample `index` of `epoch`. The four numbers form
/// the 256-bit ChaCha key, so distinct tuples give independent streams.
pub fn sample_rng(seed: u64, stream: u64, epoch: u64, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    for (chunk, value) in key.chunks_exact_mut(8).zip([seed, stream, epoch, index]) {
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use rand::RngExt;

    use super::*;

    #[test]
    fn same_tuple_same_stream() {
        let a: [u64; 4] = sample_rng(7, 0, 3, 11).random();
        let b: [u64; 4] = sample_rng(7, 0, 3, 11).random();
        assert_eq!(a, b);
    }

    #[test]
    fn each_component_changes_the_stream() {
        let base: u64 = sample_rng(7, 0, 3, 11).random();
        for other in [
            sample_rng(8, 0, 3, 11),
            sample_rng(7, 1, 3, 11),
            sample_rng(7, 0, 4, 11),
            sample_rng(7, 0, 3, 12),
        ] {
            let mut other = other;
            assert_ne!(base, other.random::<u64>());
        }
    }
}
