//! A Rust `wasm32-wasip1-threads` guest for tests/embed.rs: `std::thread`
//! workers call the embedder's typed host function `host` `bump`; argv[1]
//! picks the ending: `count N` (N threads x 1000 bumps, joined, prints the
//! total), `exit-thread` (a thread calls `process::exit(7)` while main
//! joins) or `panic-thread` (a thread aborts: a trap in that thread).

#[link(wasm_import_module = "host")]
extern "C" {
    fn bump(by: i32) -> i64;
}

fn host_bump(by: i32) -> i64 {
    // SAFETY: the host defines `host.bump: (i32) -> i64` with no preconditions.
    unsafe { bump(by) }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str).unwrap_or("count") {
        "count" => {
            let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4);
            let workers: Vec<_> = (0..n)
                .map(|_| {
                    std::thread::spawn(|| {
                        for _ in 0..1000 {
                            host_bump(1);
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().expect("worker");
            }
            println!("total {}", host_bump(0));
        }
        "exit-thread" => {
            let t = std::thread::spawn(|| std::process::exit(7));
            let _ = t.join();
            unreachable!("exit ends the program");
        }
        "panic-thread" => {
            let t = std::thread::spawn(|| std::process::abort());
            let _ = t.join();
            unreachable!("abort ends the program");
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
