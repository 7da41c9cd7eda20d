//! Randomness: counter-based streams, so that every row is a pure function of the seed
//! and its index.

pub(super) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finalizer: a bijective mix of 64 bits.
pub(super) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64, seeded per row from (seed, stream, index).
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64, stream: u64, index: u64) -> Self {
        let base = mix(seed ^ stream.wrapping_mul(GOLDEN));
        Self(mix(
            base.wrapping_add(index.wrapping_mul(0xD1B5_4A32_D192_ED03))
        ))
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-shift.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    pub(super) fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub(super) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// An index skewed towards the front: the first entries are picked most often.
    pub(super) fn front_index(&mut self, len: usize) -> usize {
        let a = self.index(len);
        let b = self.index(len);
        a.min(b)
    }

    pub(super) fn weighted<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
        let total: u64 = items.iter().map(|t| u64::from(weight(t))).sum();
        let mut roll = self.below(total);
        for item in items {
            let w = u64::from(weight(item));
            if roll < w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1]
    }

    pub(super) fn weighted_key<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        self.weighted(items, |&(_, w)| w).0
    }

    /// Pushes `n` random decimal digits, the first one at least `first_min`.
    pub(super) fn push_digits(&mut self, out: &mut String, n: u32, first_min: u64) {
        for i in 0..n {
            let d = if i == 0 {
                first_min + self.below(10 - first_min)
            } else {
                self.below(10)
            };
            out.push(char::from(b'0' + d as u8));
        }
    }
}

/// A keyed bijection of `0..size` (a four-round Feistel network with cycle walking), used to
/// hand out names and VAT numbers without repeats.
#[derive(Debug, Clone)]
pub(super) struct Perm {
    pub(super) size: u64,
    pub(super) half: u32,
    pub(super) mask: u64,
    pub(super) keys: [u64; 4],
}

impl Perm {
    pub(super) fn new(size: u64, seed: u64, stream: u64) -> Self {
        let bits = (64 - size.saturating_sub(1).leading_zeros()).max(2);
        let half = bits.div_ceil(2);
        let mut rng = Rng::new(seed, stream, 0);
        Self {
            size,
            half,
            mask: (1u64 << half) - 1,
            keys: [rng.next(), rng.next(), rng.next(), rng.next()],
        }
    }

    pub(super) fn round(&self, x: u64) -> u64 {
        let (mut left, mut right) = (x >> self.half, x & self.mask);
        for key in self.keys {
            let f = mix(right ^ key) & self.mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half) | right
    }

    pub(super) fn apply(&self, x: u64) -> u64 {
        let mut y = self.round(x);
        while y >= self.size {
            y = self.round(y);
        }
        y
    }
}

/// Maps `v` (`0..n`) injectively into `lo..hi`, spread over the whole range when `n` is
/// smaller, so that numbers do not look sequential.
pub(super) fn spread(v: u64, n: u64, lo: u64, hi: u64) -> u64 {
    let span = hi - lo;
    let stride = (span / n.max(1)).max(1);
    let jitter = if stride > 1 {
        mix(v ^ 0x5eed) % stride
    } else {
        0
    };
    lo + (v * stride + jitter) % span
}
