//! Helpers shared by the test guests.

/// A small deterministic pseudo-random sequence (xorshift32), so every run
/// sorts and sums the same data.
pub fn xorshift(seed: u32, n: usize) -> Vec<u32> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        })
        .collect()
}

/// Spins on the CPU forever without being optimised away.
pub fn spin_forever() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}
