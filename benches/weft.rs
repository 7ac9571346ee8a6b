//! weft against native pthreads, side by side: `cargo bench --bench weft`.
//!
//! Builds `benches/guests/bench.c` twice at run time — as a freestanding
//! wasi-threads guest (clang-19 + wasm-ld-19) and natively (`gcc -O2
//! -pthread`) — into `target/<profile>/weft-bench/`, runs both several rounds
//! and prints medians and the weft/native ratio. Figures, not pass/fail.
//!
//! Options (after `--`): `--rounds N` (default 5), `--only a,b` with
//! names from `spawn compute startup memory write`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::runtime::{
    release_idle_threads, Config, Engine, HostFunc, HostFuncs, Instance, Outcome, Program, Val,
    ValType,
};
use weft::wasi::{Stdio, WasiConfig};

mod common;
use common::{fmt_ns, median, run};

struct Bench {
    dir: PathBuf,
    native: PathBuf,
    engine: Engine,
    program: Program,
    host: HostFuncs,
    rss: Arc<Mutex<Vec<(i32, u64)>>>,
    rounds: usize,
    table: Vec<[String; 5]>,
}

fn main() {
    let mut rounds = 5;
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            "--only" => {
                only = args
                    .next()
                    .map(|s| s.split(',').map(String::from).collect())
            }
            _ => {} // cargo passes --bench
        }
    }
    let dir = std::env::current_exe()
        .expect("current exe")
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("weft-bench");
    if let Err(e) = build(&dir) {
        eprintln!("cannot build the benchmark programs, skipping: {e}");
        return;
    }
    let native = dir.join("bench_native");
    let wasm = std::fs::read(dir.join("bench.wasm")).expect("read bench.wasm");
    let engine = Engine::new(&Config::default()).expect("engine");
    let program = Program::from_bytes(&engine, &wasm).expect("compile bench.wasm");
    let rss = Arc::new(Mutex::new(Vec::new()));
    let mut host = HostFuncs::new();
    let log = rss.clone();
    host.define(HostFunc {
        module: "bench".into(),
        name: "rss_mark".into(),
        params: vec![ValType::I32],
        results: vec![],
        callback: Arc::new(move |_, args: &[Val], _: &mut [Val]| {
            log.lock()
                .unwrap()
                .push((args[0].unwrap_i32(), rss_bytes()));
            Ok(())
        }),
    });
    let mut b = Bench {
        dir,
        native,
        engine,
        program,
        host,
        rss,
        rounds,
        table: Vec::new(),
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("weft benchmarks: {cores} cores, {rounds} rounds, medians (weft vs gcc -O2 -pthread)");
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    if want("spawn") {
        b.spawn();
    }
    if want("compute") {
        b.compute();
    }
    if want("startup") {
        b.startup();
    }
    if want("memory") {
        b.memory();
    }
    if want("write") {
        b.write();
    }
    println!("\n| benchmark | weft | native | weft/native | note |");
    println!("|---|---|---|---|---|");
    for row in &b.table {
        println!("| {} |", row.join(" | "));
    }
}

/// The two programs, each built as a wasm guest and natively.
const PROGRAMS: [&str; 2] = ["bench", "hello"];

/// Compiles the guests and the native programs (always: it takes a second).
/// Returns the directory holding `<name>.wasm` and `<name>_native`.
fn build(dir: &Path) -> Result<(), String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/guests");
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let wasm_flags = [
        "--target=wasm32-wasi",
        "-matomics",
        "-mbulk-memory",
        "-nostdlib",
        "-O2",
        "-c",
    ];
    run(Command::new("clang-19")
        .args(wasm_flags)
        // The same entry stub as the C test guests (first field of the start
        // argument = top of the new thread's stack).
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("c-tests/guests/threaded/thread_start.s"))
        .arg("-o")
        .arg(dir.join("thread_start.o")))?;
    for name in PROGRAMS {
        let c = src.join(format!("{name}.c"));
        run(Command::new("gcc")
            .args(["-O2", "-pthread", "-D_GNU_SOURCE", "-o"])
            .arg(dir.join(format!("{name}_native")))
            .arg(&c))?;
        let obj = dir.join(format!("{name}.o"));
        run(Command::new("clang-19")
            .args(wasm_flags)
            .arg(&c)
            .arg("-o")
            .arg(&obj))?;
        run(Command::new("wasm-ld-19")
            .args([
                "--no-entry",
                "--export=_start",
                "--export=wasi_thread_start",
                "--import-memory",
                "--export-memory",
                "--shared-memory",
                "--max-memory=67108864",
            ])
            .arg(&obj)
            .arg(dir.join("thread_start.o"))
            .arg("-o")
            .arg(dir.join(format!("{name}.wasm"))))?;
    }
    Ok(())
}

/// User + system CPU time of this process (`RUSAGE_SELF`) or of its waited-for
/// children (`RUSAGE_CHILDREN`), in nanoseconds.
fn cpu_ns(who: i32) -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let ru = unsafe {
        let mut ru = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(who, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 * 1e9 + tv.tv_usec as f64 * 1e3;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Resident set size of this process in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn value(out: &str, key: &str) -> u64 {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in output:\n{out}"))
}

impl Bench {
    fn wasi(&self, args: &[&str], preopen: Option<&Path>) -> WasiConfig {
        let mut w = WasiConfig::new();
        w.args(std::iter::once("bench").chain(args.iter().copied()));
        w.stdout(Stdio::Capture);
        if let Some(dir) = preopen {
            w.preopen_dir(dir, ".");
        }
        w
    }

    /// Runs the guest through weft; returns its stdout.
    fn weft(&self, args: &[&str], preopen: Option<&Path>) -> String {
        let inst = Instance::new(&self.program, &self.wasi(args, preopen), &self.host)
            .expect("instantiate");
        let outcome = inst.run().expect("run");
        assert_eq!(outcome, Outcome::Exit(0), "weft bench {args:?}");
        String::from_utf8(inst.wasi().captured_stdout()).expect("utf-8")
    }

    /// Runs the native program; returns its stdout.
    fn native(&self, args: &[&str]) -> String {
        let out = Command::new(&self.native)
            .args(args)
            .output()
            .expect("run native");
        assert!(out.status.success(), "native bench {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn row(&mut self, name: String, weft: String, native: String, ratio: f64, note: &str) {
        let row = [name, weft, native, format!("{ratio:.2}×"), note.to_string()];
        println!(
            "  {:<34} weft {:>12}  native {:>12}  ratio {:>6}  {}",
            row[0], row[1], row[2], row[3], row[4]
        );
        self.table.push(row);
    }

    /// (1) Create + join K threads one after another: time per thread
    /// (wall clock, and CPU time of the whole process per thread).
    fn spawn(&mut self) {
        println!("spawn + join, one thread at a time");
        let k = "2000";
        let kf = 2000.0;
        let _ = self.weft(&["spawn", "200"], None); // warm the thread pool
        let (mut ws, mut ns, mut wc, mut nc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..self.rounds {
            // Interleaved, so that background load hits both alike.
            let cpu = cpu_ns(libc::RUSAGE_SELF);
            ws.push(value(&self.weft(&["spawn", k], None), "ns_per_thread") as f64);
            wc.push((cpu_ns(libc::RUSAGE_SELF) - cpu) / kf);
            let cpu = cpu_ns(libc::RUSAGE_CHILDREN);
            ns.push(value(&self.native(&["spawn", k]), "ns_per_thread") as f64);
            nc.push((cpu_ns(libc::RUSAGE_CHILDREN) - cpu) / kf);
        }
        let (w, n) = (median(ws), median(ns));
        let (wc, nc) = (median(wc), median(nc));
        self.row(
            "spawn + join per thread".into(),
            fmt_ns(w),
            fmt_ns(n),
            w / n,
            "target ≤ 1.0×",
        );
        let note = "user+sys of the process per thread";
        self.row(
            "  CPU per spawn + join".into(),
            fmt_ns(wc),
            fmt_ns(nc),
            wc / nc,
            note,
        );
    }

    /// (2) A compute kernel on T = 1, 2, 4 threads. Besides wall-clock time,
    /// the process CPU time: on a loaded machine the wall-clock speedup says
    /// more about the other processes than about weft, while CPU(T=1)/CPU(T)
    /// (parallel efficiency) shows what threading itself costs.
    fn compute(&mut self) {
        println!("parallel scaling: sum of mix(i) over 400M elements");
        let n = "400000000";
        let mut base = (0.0, 0.0, 0.0, 0.0);
        for t in ["1", "2", "4"] {
            let (mut ws, mut ns, mut wc, mut nc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..self.rounds {
                let cpu = cpu_ns(libc::RUSAGE_SELF);
                let wo = self.weft(&["compute", t, n], None);
                wc.push(cpu_ns(libc::RUSAGE_SELF) - cpu);
                let cpu = cpu_ns(libc::RUSAGE_CHILDREN);
                let no = self.native(&["compute", t, n]);
                nc.push(cpu_ns(libc::RUSAGE_CHILDREN) - cpu);
                assert_eq!(value(&wo, "sum"), value(&no, "sum"), "same result");
                ws.push(value(&wo, "ns") as f64);
                ns.push(value(&no, "ns") as f64);
            }
            let (w, nat, wc, nc) = (median(ws), median(ns), median(wc), median(nc));
            if t == "1" {
                base = (w, nat, wc, nc);
            }
            let note = format!(
                "speedup weft {:.2}×, native {:.2}×; efficiency weft {:.2}, native {:.2}",
                base.0 / w,
                base.1 / nat,
                base.2 / wc,
                base.3 / nc
            );
            self.row(
                format!("compute T={t}"),
                fmt_ns(w),
                fmt_ns(nat),
                w / nat,
                &note,
            );
        }
    }

    /// (3) Engine + compile (or cache) + instantiate + run of a threaded
    /// hello (`benches/guests/hello.c`), in process and through `weft-run`.
    fn startup(&mut self) {
        println!("start-up: engine + module + run of hello.c (2 threads)");
        let wasm_path = self.dir.join("hello.wasm");
        let wasm = std::fs::read(&wasm_path).expect("read hello.wasm");
        let native_path = self.dir.join("hello_native");
        let hello = |program: &Program| {
            let mut w = WasiConfig::new();
            w.stdout(Stdio::Capture);
            let inst = Instance::new(program, &w, &HostFuncs::new()).unwrap();
            assert_eq!(inst.run().unwrap(), Outcome::Exit(0));
        };
        let time = |f: &mut dyn FnMut()| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64
        };
        let rounds = self.rounds;
        let med = |f: &mut dyn FnMut()| median((0..rounds).map(|_| time(f)).collect());
        let cache = self.dir.join("cache");
        let _ = std::fs::remove_dir_all(&cache);
        let cached_config = Config {
            cache_dir: Some(cache.clone()),
            ..Config::default()
        };
        // Fill the cache once.
        Program::from_bytes(&Engine::new(&cached_config).unwrap(), &wasm).unwrap();
        let serialized = Program::from_bytes(&self.engine, &wasm)
            .unwrap()
            .serialize()
            .unwrap();
        let engine_only = med(&mut || {
            Engine::new(&Config::default()).unwrap();
        });
        let compile = med(&mut || {
            Program::from_bytes(&self.engine, &wasm).unwrap();
        });
        let cold = med(&mut || {
            let engine = Engine::new(&Config::default()).unwrap();
            hello(&Program::from_bytes(&engine, &wasm).unwrap());
        });
        let cached = med(&mut || {
            let engine = Engine::new(&cached_config).unwrap();
            hello(&Program::from_bytes(&engine, &wasm).unwrap());
        });
        let deser = med(&mut || {
            let engine = Engine::new(&Config::default()).unwrap();
            // SAFETY: bytes serialized just above by this process.
            hello(&unsafe { Program::deserialize(&engine, &serialized) }.unwrap());
        });
        let native = med(&mut || {
            let out = Command::new(&native_path).output().unwrap();
            assert!(out.status.success());
        });
        let note = format!(
            "compile alone {}, Engine::new {}",
            fmt_ns(compile),
            fmt_ns(engine_only)
        );
        let nnote = "native: fork+exec+run of hello_native";
        self.row(
            "start-up in process, cold".into(),
            fmt_ns(cold),
            fmt_ns(native),
            cold / native,
            &note,
        );
        self.row(
            "start-up in process, cache dir".into(),
            fmt_ns(cached),
            fmt_ns(native),
            cached / native,
            "target ≤ 20 ms",
        );
        self.row(
            "start-up in process, deserialize".into(),
            fmt_ns(deser),
            fmt_ns(native),
            deser / native,
            nnote,
        );
        // The whole process, if weft-run is built (CMake: build/weft-run/weft-run).
        let weft_run = std::env::var_os("WEFT_RUN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("build/weft-run/weft-run")
            });
        if !weft_run.exists() {
            println!(
                "  (weft-run not found at {}; set WEFT_RUN to time whole processes)",
                weft_run.display()
            );
            return;
        }
        let run_cli = |cache_dir: &Path| {
            let out = Command::new(&weft_run)
                .arg("--cache-dir")
                .arg(cache_dir)
                .arg(&wasm_path)
                .output()
                .unwrap();
            assert!(out.status.success(), "weft-run: {out:?}");
        };
        let cli_cache = self.dir.join("cli-cache");
        let probe = Command::new(&weft_run).arg("--help").output();
        if !probe.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--cache-dir")) {
            println!(
                "  ({} has no --cache-dir: rebuild it to time whole processes)",
                weft_run.display()
            );
            return;
        }
        let cli_cold = med(&mut || {
            let _ = std::fs::remove_dir_all(&cli_cache);
            run_cli(&cli_cache);
        });
        run_cli(&cli_cache);
        let cli_cached = med(&mut || run_cli(&cli_cache));
        let note = "whole process: weft-run --cache-dir (empty / filled)";
        self.row(
            "start-up weft-run, cold".into(),
            fmt_ns(cli_cold),
            fmt_ns(native),
            cli_cold / native,
            note,
        );
        self.row(
            "start-up weft-run, cached".into(),
            fmt_ns(cli_cached),
            fmt_ns(native),
            cli_cached / native,
            "target ≤ 20 ms",
        );
    }

    /// (4) Host RSS per live idle guest thread.
    fn memory(&mut self) {
        println!("memory: host RSS per live idle thread");
        for t in ["1", "100", "1000"] {
            let n: f64 = t.parse().unwrap();
            let mut ws = Vec::new();
            let mut ns = Vec::new();
            for _ in 0..self.rounds.min(3) {
                release_idle_threads();
                std::thread::sleep(Duration::from_millis(20));
                self.rss.lock().unwrap().clear();
                self.weft(&["idle", t], None);
                let marks = std::mem::take(&mut *self.rss.lock().unwrap());
                let at = |p| marks.iter().find(|m| m.0 == p).unwrap().1 as f64;
                ws.push((at(1) - at(0)) / n);
                let out = self.native(&["idle", t]);
                ns.push((value(&out, "rss1") as f64 - value(&out, "rss0") as f64) / n);
            }
            let (w, nat) = (median(ws), median(ns));
            self.row(
                format!("RSS per idle thread, {t} threads"),
                format!("{:.0} KiB", w / 1024.0),
                format!("{:.0} KiB", nat / 1024.0),
                w / nat.max(1.0),
                "target ≤ 256 KiB",
            );
        }
    }

    /// (5) fd_write throughput from T threads, distinct files and one file.
    fn write(&mut self) {
        println!("WASI fd_write: 80,000 records of 256 bytes over T threads");
        for shared in ["0", "1"] {
            let mut single = (0.0, 0.0);
            for t in ["1", "2", "4", "8"] {
                let mut ws = Vec::new();
                let mut ns = Vec::new();
                for _ in 0..self.rounds {
                    let wdir = self.dir.join("out-weft");
                    let ndir = self.dir.join("out-native");
                    for d in [&wdir, &ndir] {
                        let _ = std::fs::remove_dir_all(d);
                        std::fs::create_dir_all(d).unwrap();
                    }
                    let wo = self.weft(&["write", t, shared], Some(&wdir));
                    let no = self.native(&["write", t, shared, ndir.to_str().unwrap()]);
                    let mbps = |o: &str| value(o, "bytes") as f64 / value(o, "ns") as f64 * 1e3;
                    ws.push(mbps(&wo));
                    ns.push(mbps(&no));
                }
                let (w, nat) = (median(ws), median(ns));
                if t == "1" {
                    single = (w, nat);
                }
                let note = format!(
                    "vs 1 thread: weft {:.2}×, native {:.2}×",
                    w / single.0,
                    nat / single.1
                );
                let what = if shared == "1" {
                    "one file"
                } else {
                    "own files"
                };
                self.row(
                    format!("fd_write T={t}, {what}"),
                    format!("{w:.0} MB/s"),
                    format!("{nat:.0} MB/s"),
                    w / nat,
                    &note,
                );
            }
        }
    }
}
