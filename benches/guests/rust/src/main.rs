//! rayon on a 2-thread pool: a parallel sort of N pseudo-random u64 and a
//! parallel map-reduce over them. Usage: weft-bench-rayon [THREADS [N]]

use rayon::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4_000_000);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let (first, sum) = pool.install(|| {
        let mut v: Vec<u64> = (0..n as u64)
            .into_par_iter()
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17))
            .collect();
        v.par_sort_unstable();
        let sum = v
            .par_iter()
            .map(|x| x.wrapping_mul(*x) >> 7)
            .reduce(|| 0, u64::wrapping_add);
        (v[0], sum)
    });
    println!("first={first} sum={sum}");
}
