//! rayon: parallel sort, map-reduce, join, scope, ordered collect, and pools
//! of explicit sizes built with ThreadPoolBuilder.
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use weft_rust_guests::xorshift;

fn fib(n: u32) -> u64 {
    if n < 2 {
        return n as u64;
    }
    let (a, b) = rayon::join(|| fib(n - 1), || fib(n - 2));
    a + b
}

fn main() {
    rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .thread_name(|i| format!("global-{i}"))
        .build_global()
        .unwrap();
    println!("global pool threads: {}", rayon::current_num_threads());

    // Parallel sorts agree with the sequential one.
    let data = xorshift(7, 200_000);
    let mut want = data.clone();
    want.sort();
    let mut a = data.clone();
    a.par_sort();
    let mut b = data.clone();
    b.par_sort_unstable();
    let mut c: Vec<(u32, usize)> = data
        .iter()
        .enumerate()
        .map(|(i, &x)| (x % 1000, i))
        .collect();
    c.par_sort_by_key(|&(k, _)| k);
    let stable = c
        .windows(2)
        .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1));
    println!(
        "par_sort: {} elements, equal to sort: {}, unstable equal: {}, stable by key: {}",
        a.len(),
        a == want,
        b == want,
        stable
    );
    println!("min {} max {}", a[0], a[a.len() - 1]);

    // Map-reduce.
    let sum_sq: u64 = (1..=1_000_000u64)
        .into_par_iter()
        .map(|x| x * x % 1_000_003)
        .sum();
    let evens = (0..1_000_000u32)
        .into_par_iter()
        .filter(|x| x % 2 == 0)
        .count();
    let max = data.par_iter().copied().max().unwrap();
    let words = ["weft", "rayon", "wasm", "threads"];
    let total_len = words.par_iter().map(|w| w.len()).reduce(|| 0, |a, b| a + b);
    println!("map-reduce: sum {sum_sq}, evens {evens}, max {max}, len {total_len}");

    // Ordered collect and chunks.
    let squares: Vec<u64> = (0..20u64).into_par_iter().map(|x| x * x).collect();
    println!("collect: {squares:?}");
    let chunk_sums: Vec<u32> = (1..=40u32)
        .collect::<Vec<_>>()
        .par_chunks(10)
        .map(|c| c.iter().sum())
        .collect();
    println!("chunks: {chunk_sums:?}");

    // join and scope.
    println!("fib(25) by join: {}", fib(25));
    let hits = AtomicUsize::new(0);
    rayon::scope(|s| {
        for i in 0..100 {
            let hits = &hits;
            s.spawn(move |_| {
                hits.fetch_add(i, Ordering::Relaxed);
            });
        }
    });
    println!("scope: {}", hits.load(Ordering::Relaxed));

    // Pools of explicit sizes: each runs the same work and a broadcast that
    // reaches every one of its threads exactly once.
    for n in [1, 2, 4, 8] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(move |i| format!("pool{n}-{i}"))
            .build()
            .unwrap();
        let (threads, sum) = pool.install(|| {
            (
                rayon::current_num_threads(),
                (1..=100_000u64).into_par_iter().sum::<u64>(),
            )
        });
        let mut names = pool.broadcast(|ctx| {
            format!(
                "{}:{}",
                ctx.index(),
                std::thread::current().name().unwrap_or("?")
            )
        });
        names.sort();
        println!("pool of {n}: current_num_threads {threads}, sum {sum}, broadcast {names:?}");
    }
    println!("done");
}
