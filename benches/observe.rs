//! What observing threads costs, and how fast deadlocks are found:
//! `cargo bench --bench observe`. Prints figures; asserts nothing.
//!
//! * WASI-call overhead of the thread states: loops of `clock_time_get`
//!   calls (ns per call) on 1 and 2 threads, through the runner (which
//!   always publishes states) and through `weft::embed` with and without
//!   the `WasiView` hooks that publish them — the same code but for the
//!   state updates, so the difference is their cost.
//! * Snapshot (`Instance::threads`) and dump (`Instance::dump`) cost with
//!   N parked threads, and with N spinning threads (answers via the epoch:
//!   `precise_dumps`).
//! * Deadlock detection latency: a two-thread WAT deadlock (and the wasi-sdk
//!   pthread deadlocks when `WASI_SDK_PATH` is set), from the moment the
//!   last thread parks to `run` returning, over many runs.
//! * False positives: runs of ping-pong through untimed waits, and of the
//!   pthread producer/consumer and worker-pool guests (with `WASI_SDK_PATH`).
//!
//! * The end of a program with 1,000 threads spinning in wasm: interrupt
//!   to `wait` returning, and the final dump (every spinner's frames).
//!
//! Options (after `--`): `--only a,b` from `wasi snapshot detect end stress`,
//! `--runs N` (stress runs per guest, default 2000).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::embed::{self, GuestMemory, WasiCtx, WasiThreadsCtx, WasiView};
use weft::runtime::{
    Config, Engine, HostFunc, HostFuncs, Instance, Outcome, Program, Val, ValType,
};
use weft::wasi::{Stdio, WasiConfig};

fn quiet() -> WasiConfig {
    let mut c = WasiConfig::new();
    c.stdout(Stdio::Capture)
        .stderr(Stdio::Capture)
        .stdin(Stdio::Null);
    c
}

fn const_fn(module: &str, name: &str, v: i32) -> HostFunc {
    HostFunc {
        module: module.into(),
        name: name.into(),
        params: vec![],
        results: vec![ValType::I32],
        callback: Arc::new(move |_, _, out| {
            out[0] = Val::I32(v);
            Ok(())
        }),
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// `_start` spawns "test" "threads" children that each make "test" "n"
/// `clock_time_get` calls (or, with no children, makes them itself), then
/// waits for them.
const CLOCK_LOOP: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (import "test" "n" (func $n (result i32)))
  (import "test" "threads" (func $threads (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $calls (param $at i32) (local $i i32) (local $n i32)
    (local.set $n (call $n))
    (loop $l
      (drop (call $now (i32.const 1) (i64.const 0) (local.get $at)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $calls (i32.add (i32.const 1024) (i32.mul (local.get $tid) (i32.const 64))))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
  (func (export "_start") (local $i i32) (local $v i32)
    (if (i32.eqz (call $threads)) (then (call $calls (i32.const 1024)) (return)))
    (loop $s
      (drop (call $spawn (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $s (i32.lt_u (local.get $i) (call $threads))))
    (block $done
      (loop $w
        (local.set $v (i32.atomic.load (i32.const 0)))
        (br_if $done (i32.eq (local.get $v) (call $threads)))
        (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1)))
        (br $w)))))"#;

const CALLS: i32 = 1_000_000;
const ROUNDS: usize = 9;

/// CPU time of the whole process (every thread) so far.
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) },
        0
    );
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The wall and CPU time one `run` takes (CPU of every thread of the process).
fn timed(run: impl FnOnce()) -> (Duration, Duration) {
    let (wall, cpu) = (Instant::now(), process_cpu());
    run();
    (wall.elapsed(), process_cpu() - cpu)
}

/// Median wall ns per call of one thread, and median CPU ns per call, of
/// `runs` (each of `calls` calls in total).
fn per_call(runs: &mut [(Duration, Duration)], calls: f64) -> (f64, f64) {
    let mut wall: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    let mut cpu: Vec<Duration> = runs.iter().map(|r| r.1).collect();
    (
        median(&mut wall).as_secs_f64() * 1e9 / f64::from(CALLS),
        median(&mut cpu).as_secs_f64() * 1e9 / calls,
    )
}

/// An embedder's store data; `TRACK` says whether its `WasiView` forwards
/// WASI calls to weft's thread states (`embed::wasi_call_started/finished`).
struct EmbedHost<const TRACK: bool> {
    wasi: Arc<WasiCtx>,
    threads: Option<Arc<WasiThreadsCtx<EmbedHost<TRACK>>>>,
}

impl<const TRACK: bool> Clone for EmbedHost<TRACK> {
    fn clone(&self) -> Self {
        EmbedHost {
            wasi: self.wasi.clone(),
            threads: self.threads.clone(),
        }
    }
}

impl<const TRACK: bool> WasiView for EmbedHost<TRACK> {
    fn wasi(&self) -> &WasiCtx {
        &self.wasi
    }

    fn guest_memory(&self) -> Option<&GuestMemory> {
        self.threads.as_ref()?.guest_memory()
    }

    fn call_started(caller: &wasmtime::Caller<'_, Self>, name: &'static std::ffi::CStr) {
        if TRACK {
            embed::wasi_call_started(caller, name);
        }
    }

    fn call_finished(caller: &wasmtime::Caller<'_, Self>) {
        if TRACK {
            embed::wasi_call_finished(caller);
        }
    }
}

/// One run of [`CLOCK_LOOP`] through `weft::embed` with `threads` children:
/// its wall and CPU time.
fn embed_run<const TRACK: bool>(module: &wasmtime::Module, threads: i32) -> (Duration, Duration) {
    let engine = module.engine();
    let wasi = Arc::new(WasiCtx::new(&quiet()).unwrap());
    let mut store = wasmtime::Store::new(
        engine,
        EmbedHost::<TRACK> {
            wasi: wasi.clone(),
            threads: None,
        },
    );
    let mut linker = wasmtime::Linker::new(engine);
    embed::add_wasi_to_linker(&mut linker).unwrap();
    linker.func_wrap("test", "n", || CALLS).unwrap();
    linker
        .func_wrap("test", "threads", move || threads)
        .unwrap();
    embed::add_to_linker(&mut linker, &store, module, |h: &mut EmbedHost<TRACK>| {
        h.threads.as_ref().unwrap()
    })
    .unwrap();
    let ctx = Arc::new(
        WasiThreadsCtx::new(module.clone(), Arc::new(linker))
            .unwrap()
            .with_wasi(&wasi),
    );
    store.data_mut().threads = Some(ctx.clone());
    let instance = ctx.instantiate(&mut store).unwrap();
    timed(|| {
        assert_eq!(
            ctx.run_main(&mut store, &instance).unwrap(),
            embed::Outcome::Exit(0)
        );
    })
}

fn wasi_overhead(engine: &Engine) {
    let program = Program::from_bytes(engine, CLOCK_LOOP.as_bytes()).unwrap();
    let embed_engine =
        wasmtime::Engine::new(embed::configure(&mut wasmtime::Config::new())).unwrap();
    let module = embed::compile(&embed_engine, CLOCK_LOOP.as_bytes()).unwrap();
    for threads in [0, 2] {
        let calls = f64::from(CALLS) * f64::from(threads.max(1));
        let mut host = HostFuncs::new();
        host.define(const_fn("test", "n", CALLS));
        host.define(const_fn("test", "threads", threads));
        // Alternate the three so that all see the same load.
        let (mut runner, mut with, mut without) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let inst = Instance::new(&program, &quiet(), &host).unwrap();
            runner.push(timed(|| assert_eq!(inst.run().unwrap(), Outcome::Exit(0))));
            with.push(embed_run::<true>(&module, threads));
            without.push(embed_run::<false>(&module, threads));
        }
        let (runner, with, without) = (
            per_call(&mut runner, calls),
            per_call(&mut with, calls),
            per_call(&mut without, calls),
        );
        println!(
            "WASI call (clock_time_get), {} thread{}: wall ns per call of one thread / CPU ns per call: runner {:.1} / {:.1}; embed with thread states {:.1} / {:.1}, without {:.1} / {:.1}: states cost {:.1} ns of CPU per call (medians of {ROUNDS} x {CALLS} calls per thread)",
            threads.max(1),
            if threads > 1 { "s in parallel" } else { "" },
            runner.0,
            runner.1,
            with.0,
            with.1,
            without.0,
            without.1,
            with.1 - without.1,
        );
    }
}

/// `_start` spawns "test" "n" children doing `mode` (0: park untimed, 1:
/// spin), then parks untimed itself.
const MANY: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "n" (func $n (result i32)))
  (import "test" "mode" (func $mode (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin (loop $l (br $l)))
  (func $park (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func (export "wasi_thread_start") (param i32 i32)
    (if (i32.eqz (call $mode)) (then (call $park)) (else (call $spin))))
  (func (export "_start") (local $i i32)
    (loop $l
      (drop (call $spawn (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (call $n))))
    (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1)))))"#;

fn snapshot_and_dump(engine: &Engine) {
    let program = Program::from_bytes(engine, MANY.as_bytes()).unwrap();
    for (mode, what) in [(0, "parked"), (1, "spinning")] {
        for n in [1, 15, 127] {
            if mode == 1 && n > 15 {
                continue;
            }
            let mut host = HostFuncs::new();
            host.define(const_fn("test", "n", n));
            host.define(const_fn("test", "mode", mode));
            let inst = Instance::new(&program, &quiet(), &host).unwrap();
            inst.start().unwrap();
            let t = Instant::now();
            while inst.threads().threads.len() < n as usize + 1
                || inst.threads().threads.iter().any(|t| {
                    !matches!(
                        t.state,
                        weft::runtime::ThreadState::Parked { .. }
                            | weft::runtime::ThreadState::Running
                    )
                })
            {
                assert!(t.elapsed() < Duration::from_secs(20));
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut snaps = Vec::new();
            for _ in 0..200 {
                let t = Instant::now();
                std::hint::black_box(inst.threads());
                snaps.push(t.elapsed());
            }
            let mut dumps = Vec::new();
            let mut answered = 0;
            for _ in 0..20 {
                let t = Instant::now();
                let d = inst.dump();
                dumps.push(t.elapsed());
                answered += d.threads.iter().filter(|t| t.backtrace.is_some()).count();
            }
            println!(
                "{:>3} threads ({what} + main parked): snapshot {} median, dump {} median / {} max ({} of {} answered)",
                n + 1,
                us(median(&mut snaps)),
                us(median(&mut dumps)),
                us(pct(&mut dumps, 1.0)),
                answered,
                20 * (n + 1)
            );
            inst.interrupt();
            inst.wait(None);
        }
    }
}

/// `_start` spawns "test" "n" children, which check in at 32 and park on
/// 64; once all have checked in, it releases them at once and parks untimed
/// on 128. Released, each spins in `$spin` forever.
const RELEASED_SPINNERS: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "n" (func $n (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin (loop $l (br $l)))
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (i32.atomic.rmw.add (i32.const 32) (i32.const 1)))
    (loop $w
      (if (i32.eqz (i32.atomic.load (i32.const 64)))
        (then
          (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1)))
          (br $w))))
    (call $spin))
  (func (export "_start") (local $i i32) (local $in i32)
    (loop $l
      (drop (call $spawn (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (call $n))))
    (loop $c
      (local.set $in (i32.atomic.load (i32.const 32)))
      (if (i32.lt_u (local.get $in) (call $n))
        (then
          (drop (memory.atomic.wait32 (i32.const 32) (local.get $in) (i64.const 1000000)))
          (br $c))))
    (i32.atomic.store (i32.const 64) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 64) (i32.const -1)))
    (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1)))))"#;

/// The end of a program with `n` threads spinning in wasm (issue 21): from
/// `interrupt` to `wait` returning (every thread stopped at its stop check,
/// each leaving the frames of its stop for final dumps), then the final
/// dump that lists them. The threads spin for about 20 ms before the end:
/// they wait parked until all are started.
fn end_of_spinning(engine: &Engine, n: i32, runs: usize) {
    let program = Program::from_bytes(engine, RELEASED_SPINNERS.as_bytes()).unwrap();
    let mut ends = Vec::new();
    let mut dumps = Vec::new();
    let mut framed = 0;
    for _ in 0..runs {
        let mut host = HostFuncs::new();
        host.define(const_fn("test", "n", n));
        let inst = Instance::new(&program, &quiet(), &host).unwrap();
        inst.start().unwrap();
        let t = Instant::now();
        // Main parks on 128 once it has released every thread.
        while !inst.threads().threads.iter().any(|t| {
            t.tid == 0
                && matches!(
                    t.state,
                    weft::runtime::ThreadState::Parked { address: 128, .. }
                )
        }) {
            assert!(t.elapsed() < Duration::from_secs(30));
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        inst.interrupt();
        inst.wait(None);
        ends.push(t.elapsed());
        let t = Instant::now();
        let d = inst.dump();
        dumps.push(t.elapsed());
        framed += d
            .threads
            .iter()
            .filter(|t| t.backtrace.as_deref().is_some_and(|b| b.contains("!spin")))
            .count();
    }
    println!(
        "end of {n} spinning threads: interrupt to wait {} median / {} max, final dump {} median ({framed} of {} spinners with frames)",
        us(median(&mut ends)),
        us(pct(&mut ends, 1.0)),
        us(median(&mut dumps)),
        runs * n as usize
    );
}

const DEADLOCK: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1)))))"#;

/// The same shape without the deadlock: the child wakes main and returns.
const NO_DEADLOCK: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.atomic.store (i32.const 128) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 128) (i32.const 1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1)))))"#;

fn time_runs(engine: &Engine, bytes: &[u8], runs: usize, want_deadlock: bool) -> Vec<Duration> {
    let program = Program::from_bytes(engine, bytes).unwrap();
    let mut times = Vec::new();
    for _ in 0..runs {
        let inst = Instance::new(&program, &quiet(), &HostFuncs::new()).unwrap();
        let t = Instant::now();
        let o = inst.run().unwrap();
        times.push(t.elapsed());
        assert_eq!(matches!(o, Outcome::Deadlock(_)), want_deadlock, "{o:?}");
    }
    times
}

fn pthread_guest(stem: &str) -> Option<Vec<u8>> {
    let sdk = PathBuf::from(std::env::var_os("WASI_SDK_PATH")?);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("weft-observe-{stem}.wasm"));
    let ok = Command::new(sdk.join("bin/clang"))
        .args(["--target=wasm32-wasip1-threads", "-pthread", "-O2"])
        .arg(format!(
            "--sysroot={}",
            sdk.join("share/wasi-sysroot").display()
        ))
        .args([
            "-Wl,--import-memory,--export-memory,--max-memory=67108864",
            "-o",
        ])
        .arg(&out)
        .arg(root.join(format!("c-tests/guests/pthreads/{stem}.c")))
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| std::fs::read(&out).ok()).flatten()
}

/// [`DEADLOCK`] with the moment of the last park marked: the child parks
/// at once; main gives it 1 ms (a timed wait, never a deadlock), calls
/// "test" "mark", then parks untimed: the deadlock.
const DEADLOCK_MARKED: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "mark" (func $mark))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const 1000000)))
    (call $mark)
    (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1)))))"#;

/// From the last thread parking (just after "test" "mark" returns) to `run`
/// returning `Deadlock`: detection, the dump, stopping and joining.
fn detection_to_end(engine: &Engine, runs: usize) -> Vec<Duration> {
    let program = Program::from_bytes(engine, DEADLOCK_MARKED.as_bytes()).unwrap();
    let marked = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mut host = HostFuncs::new();
    let m = marked.clone();
    host.define(HostFunc {
        module: "test".into(),
        name: "mark".into(),
        params: vec![],
        results: vec![],
        callback: Arc::new(move |_, _, _| {
            *m.lock().unwrap() = Some(Instant::now());
            Ok(())
        }),
    });
    let mut times = Vec::new();
    for _ in 0..runs {
        let inst = Instance::new(&program, &quiet(), &host).unwrap();
        let o = inst.run().unwrap();
        let end = Instant::now();
        assert!(matches!(o, Outcome::Deadlock(_)), "{o:?}");
        let at = marked.lock().unwrap().take().expect("marked");
        times.push(end - at);
    }
    times
}

fn detect(engine: &Engine) {
    let mut lat = detection_to_end(engine, 300);
    println!(
        "deadlock (WAT, 2 threads): last thread parks -> run returns Deadlock (detection, dump, stop, join): {} median / {} p99 / {} max (300 runs)",
        us(median(&mut lat)),
        us(pct(&mut lat, 0.99)),
        us(pct(&mut lat, 1.0))
    );
    let mut dl = time_runs(engine, DEADLOCK.as_bytes(), 300, true);
    let mut ok = time_runs(engine, NO_DEADLOCK.as_bytes(), 300, false);
    println!(
        "deadlock (WAT, 2 threads): run returns after {} median / {} p99 / {} max; same program without the deadlock {} median: detection + dump ≈ {}",
        us(median(&mut dl)),
        us(pct(&mut dl, 0.99)),
        us(pct(&mut dl, 1.0)),
        us(median(&mut ok)),
        us(median(&mut dl).saturating_sub(median(&mut ok)))
    );
    for stem in ["deadlock_lock_order", "deadlock_join", "deadlock_condvar"] {
        let Some(bytes) = pthread_guest(stem) else {
            println!("{stem}: WASI_SDK_PATH not set, skipped");
            continue;
        };
        let mut t = time_runs(engine, &bytes, 100, true);
        println!(
            "{stem} (pthread C): run returns after {} median / {} max",
            us(median(&mut t)),
            us(pct(&mut t, 1.0))
        );
    }
}

fn stress(engine: &Engine, runs: usize) {
    let ping = include_str!("../tests/guests/ping_pong.wat");
    let program = Program::from_bytes(engine, ping.as_bytes()).unwrap();
    let mut host = HostFuncs::new();
    host.define(const_fn("test", "rounds", 1000));
    let t = Instant::now();
    let mut bad = 0;
    for _ in 0..runs {
        let inst = Instance::new(&program, &quiet(), &host).unwrap();
        if inst.run().unwrap() != Outcome::Exit(0) {
            bad += 1;
        }
    }
    println!(
        "ping-pong (1000 round trips through untimed waits): {runs} runs in {:.1} s, {bad} not exit 0",
        t.elapsed().as_secs_f64()
    );
    for (stem, args) in [
        ("producer_consumer", &["p"][..]),
        ("busy_not_deadlocked", &["b"][..]),
        ("busy_not_deadlocked", &["b", "timed"][..]),
    ] {
        let Some(bytes) = pthread_guest(stem) else {
            println!("{stem}: WASI_SDK_PATH not set, skipped");
            continue;
        };
        let program = Program::from_bytes(engine, &bytes).unwrap();
        let t = Instant::now();
        let mut bad = 0;
        let n = if stem == "producer_consumer" {
            runs
        } else {
            runs / 10
        };
        for _ in 0..n {
            let mut cfg = quiet();
            cfg.args(args.iter().copied());
            let inst = Instance::new(&program, &cfg, &HostFuncs::new()).unwrap();
            if inst.run().unwrap() != Outcome::Exit(0) {
                bad += 1;
            }
        }
        println!(
            "{stem} {:?}: {n} runs in {:.1} s, {bad} not exit 0 (a false deadlock would count here)",
            &args[1..],
            t.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    let mut only: Option<Vec<String>> = None;
    let mut runs = 2000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--only" => {
                only = args
                    .next()
                    .map(|s| s.split(',').map(String::from).collect())
            }
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            _ => {}
        }
    }
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let engine = Engine::new(&Config {
        timeout: Some(Duration::from_secs(120)),
        ..Config::default()
    })
    .unwrap();
    if want("wasi") {
        wasi_overhead(&engine);
    }
    if want("snapshot") {
        // All threads parked untimed would be a deadlock: measure without
        // detection. Spinning threads answer dumps only with precise dumps.
        let quiet_engine = Engine::new(&Config {
            deadlock_detection: false,
            precise_dumps: true,
            ..Config::default()
        })
        .unwrap();
        snapshot_and_dump(&quiet_engine);
    }
    if want("detect") {
        detect(&engine);
    }
    if want("end") {
        let many = Engine::new(&Config {
            max_threads: 1100,
            deadlock_detection: false,
            ..Config::default()
        })
        .unwrap();
        end_of_spinning(&many, 1000, 3);
    }
    if want("stress") {
        stress(&engine, runs);
    }
}
