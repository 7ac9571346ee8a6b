//! rayon: a parallel sort of N pseudo-random u64 and a parallel map-reduce
//! over them, on a pool of THREADS threads, or with `default` on rayon's
//! global pool, which sizes itself: `RAYON_NUM_THREADS`, else
//! `available_parallelism()` (which is `Unsupported` on wasm, so one thread).
//! Usage: weft-bench-rayon [THREADS|default [N]]

use rayon::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let threads = args.next();
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4_000_000);
    let work = || {
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
    };
    let (first, sum) = if threads.as_deref() == Some("default") {
        work()
    } else {
        let threads: usize = threads.and_then(|a| a.parse().ok()).unwrap_or(2);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(work)
    };
    println!("first={first} sum={sum}");
}
