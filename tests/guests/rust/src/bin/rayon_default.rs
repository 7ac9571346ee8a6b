//! rayon's global pool without ThreadPoolBuilder. std cannot tell the number
//! of CPUs on WASI (available_parallelism is Unsupported), so rayon starts
//! one thread unless RAYON_NUM_THREADS says otherwise: weft-run sets it (and
//! OMP_NUM_THREADS) to the CPUs the host may use, or to --parallelism N,
//! unless --env sets it; --parallelism none sets nothing.
//! Then creates and drops 20 pools of 6, whose threads end on their own
//! (not with the argument `global-only`, for runs with a lower thread limit).
use rayon::prelude::*;

fn main() {
    println!(
        "available_parallelism: {:?}",
        std::thread::available_parallelism().map_err(|e| e.kind())
    );
    println!(
        "RAYON_NUM_THREADS: {:?}",
        std::env::var("RAYON_NUM_THREADS").ok()
    );
    println!(
        "OMP_NUM_THREADS: {:?}",
        std::env::var("OMP_NUM_THREADS").ok()
    );
    println!("global pool threads: {}", rayon::current_num_threads());
    let s: u64 = (0..1_000_000u64).into_par_iter().sum();
    println!("sum: {s}");
    if std::env::args().nth(1).as_deref() == Some("global-only") {
        return;
    }
    for round in 0..20u64 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(6)
            .build()
            .unwrap();
        let x: u64 = pool.install(|| (0..10_000u64).into_par_iter().map(|v| v ^ round).sum());
        assert_eq!(x, (0..10_000u64).map(|v| v ^ round).sum());
    }
    println!("20 pools of 6 built, used and dropped");
}
