//! The `random` module's generator: the Mersenne Twister MT19937 seeded the way
//! CPython seeds it from an int, so a seeded script draws CPython's exact numbers.

const N: usize = 624;
const M: usize = 397;

#[derive(Debug, Clone)]
pub struct Mt {
    state: Box<[u32; N]>,
    index: usize,
}

impl Mt {
    /// A generator seeded with `seed` as `random.seed(seed)` does.
    pub fn new(seed: i64) -> Mt {
        let mut mt = Mt {
            state: Box::new([0; N]),
            index: N,
        };
        mt.seed(seed);
        mt
    }

    fn init(&mut self, s: u32) {
        self.state[0] = s;
        for i in 1..N {
            let prev = self.state[i - 1];
            self.state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    /// Seeds from an int: its absolute value's 32-bit words, least significant first.
    pub fn seed(&mut self, seed: i64) {
        let mut a = seed.unsigned_abs();
        let mut key = Vec::new();
        loop {
            key.push(a as u32);
            a >>= 32;
            if a == 0 {
                break;
            }
        }
        self.init_by_array(&key);
    }

    /// `random.seed(n)` for an int past 64 bits: the 32-bit words of `|n|`,
    /// least significant first, as CPython takes them.
    pub fn seed_words(&mut self, key: &[u32]) {
        self.init_by_array(key);
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init(19_650_218);
        let mt = &mut self.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
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
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
    }

    fn twist(&mut self) {
        let mt = &mut self.state;
        for k in 0..N {
            let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % N] & 0x7fff_ffff);
            let mut v = mt[(k + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            mt[k] = v;
        }
        self.index = 0;
    }

    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.random()`: 53 bits from two outputs.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `random.getrandbits(k)` for k <= 64: 32-bit words, least significant first,
    /// the last one cut to the bits left.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k.max(1))) & mask(k);
        }
        let mut out = 0u64;
        let mut shift = 0;
        let mut left = k;
        while left > 0 {
            let mut r = self.next_u32();
            if left < 32 {
                r >>= 32 - left;
            }
            out |= u64::from(r) << shift;
            shift += 32;
            left = left.saturating_sub(32);
        }
        out
    }

    /// A uniform int in `0..n` (n > 0) by rejection, as CPython's `_randbelow`.
    pub fn below(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }
}

fn mask(k: u32) -> u64 {
    if k >= 64 { u64::MAX } else { (1u64 << k) - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by CPython 3.11: random.seed(s); [random.random(), ...].
    #[test]
    fn matches_cpython() {
        let mut r = Mt::new(42);
        assert_eq!(r.random(), 0.6394267984578837);
        assert_eq!(r.random(), 0.025010755222666936);
        let mut r = Mt::new(0);
        assert_eq!(r.random(), 0.8444218515250481);
        let mut r = Mt::new(1 << 40);
        assert_eq!(r.getrandbits(40), GETRANDBITS_2_40);
        let mut r = Mt::new(-7);
        assert_eq!(r.below(10), BELOW_NEG7);
    }

    const GETRANDBITS_2_40: u64 = 386_992_184_705;
    const BELOW_NEG7: u64 = 5;
}
