//! Starting and ending threads, side by side with native and Wasmtime 46 in
//! one run (issue 21): `cargo bench --bench lifecycle`.
//!
//! ```sh
//! cmake --build build --target weft-run        # the weft-run under test
//! WEFT_WASMTIME46=/opt/wasmtime46/wasmtime cargo bench --bench lifecycle
//! cargo bench --bench lifecycle -- --only end --rounds 9
//! ```
//!
//! The programs (`benches/guests/lifecycle/*.c`) are built at run time with
//! wasi-sdk and `gcc -O2 -pthread`, as in `--bench real`. Rows (`--only`):
//!
//! * `storm`: `storm.c`, whose main thread starts two threads that create
//!   spinning threads in a loop, then exits with 7 at once. 100 runs in a
//!   row (`--storm-runs N`): through the C API in this process (one engine
//!   and module, `weft_instance_new` / `_run` / `_delete` per run, a
//!   long-lived host), and as whole processes of weft-run, Wasmtime 46 and
//!   native. Median, p99 and worst run. A run not over after 10 s is
//!   stopped (the C API's timeout, a kill for processes) and counted as
//!   hung.
//! * `end`: `spinners.c N` starts N spinning threads (10, 100, 1,000),
//!   waits until all run, writes `ready` and calls `exit(3)`. The time from
//!   reading `ready` to the end of the process: what ending a program with
//!   N threads running costs. Median of `--rounds` runs (default 5).
//! * `spawn`: `spawn_join.c` creates and joins 5,000 threads one at a time
//!   and prints the time per thread from the 200th on (its own clock), the
//!   median of `--rounds` runs.
//!
//! The runners are interleaved in every round (rotating order) so that
//! background load hits them alike. Figures, not pass/fail.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

use weft::ffi::config::*;
use weft::ffi::engine::*;
use weft::ffi::error::weft_error_delete;
use weft::ffi::instance::*;
use weft::ffi::module::*;
use weft::ffi::wasi_config::*;

mod common;
use common::{build_c, fmt_ns, median, out_dir, wasmtime46, wasmtime46_cmd, weft_run};

/// A run still going after this long counts as hung and is stopped.
const HANG: Duration = Duration::from_secs(10);

/// The timeout of the `end` rows' runs through the C API, whose start-up
/// counts too: starting 1,000 spinning threads takes seconds even natively
/// (6 s here: the spawner competes with every spinner already running, as
/// the process rows' programs do before their `ready`, which no timeout
/// bounds).
const START_UP: Duration = Duration::from_secs(300);

struct Runner {
    name: &'static str,
    /// Program and leading arguments; the guest (or native binary) follows.
    cmd: Vec<String>,
}

impl Runner {
    /// The command that runs program `name` of `dir` with `args`.
    fn command(&self, dir: &Path, name: &str, args: &[&str]) -> Command {
        let mut cmd = match self.cmd.split_first() {
            Some((program, lead)) => {
                let mut c = Command::new(program);
                c.args(lead).arg(dir.join(format!("{name}.wasm")));
                c
            }
            None => Command::new(dir.join(format!("{name}_native"))),
        };
        cmd.args(args).stdin(Stdio::null());
        cmd
    }
}

fn main() {
    let mut rounds = 5;
    let mut storm_runs = 100;
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            "--storm-runs" => storm_runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(100),
            "--only" => {
                only = args
                    .next()
                    .map(|s| s.split(',').map(String::from).collect())
            }
            _ => {} // cargo passes --bench
        }
    }
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = out_dir("weft-bench-lifecycle");
    let Some(weft_run) = weft_run(root) else {
        return;
    };
    let src = root.join("benches/guests/lifecycle");
    if let Err(e) = build_c(root, &src, &["storm", "spinners", "spawn_join"], &dir) {
        eprintln!("cannot build the programs, skipping: {e}");
        return;
    }
    let mut runners = vec![Runner {
        name: "weft-run",
        cmd: vec![weft_run.display().to_string()],
    }];
    if let Some(w) = wasmtime46() {
        runners.push(Runner {
            name: "wasmtime 46",
            cmd: wasmtime46_cmd(&w),
        });
    }
    runners.push(Runner {
        name: "native",
        cmd: vec![],
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("lifecycle: {cores} cores, {rounds} rounds, {storm_runs} storm runs");
    if want("storm") {
        storm(&dir, &runners, storm_runs);
    }
    if want("end") {
        end_latency(&dir, &runners, rounds);
    }
    if want("spawn") {
        spawn_join(&dir, &runners, rounds);
    }
}

/// The `storm` rows: median, p99 and worst of `runs` runs each.
fn storm(dir: &Path, runners: &[Runner], runs: usize) {
    println!("storm: two threads create spinning threads, main exits with 7 at once; {runs} runs");
    let mut columns: Vec<(String, Vec<Option<f64>>)> =
        vec![("weft C API, one process".into(), vec![])];
    columns.extend(runners.iter().map(|r| (r.name.to_string(), vec![])));
    let wasm = std::fs::read(dir.join("storm.wasm")).expect("read storm.wasm");
    let api = ApiProgram::new(&wasm, HANG);
    for i in 0..runs {
        for k in 0..columns.len() {
            let c = (i + k) % columns.len();
            let t = match c {
                0 => api.storm(),
                _ => process_time(&mut runners[c - 1].command(dir, "storm", &[]), 7),
            };
            columns[c].1.push(t);
        }
    }
    println!();
    println!("| storm, {runs} runs | median | p99 | worst | hung (> {HANG:?}) |");
    println!("|---|---|---|---|---|");
    for (name, times) in columns {
        let hung = times.iter().filter(|t| t.is_none()).count();
        let mut ok: Vec<f64> = times.into_iter().map(|t| t.unwrap_or(f64::MAX)).collect();
        ok.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let at = |q: f64| {
            let v = ok[((ok.len() - 1) as f64 * q).round() as usize];
            if v == f64::MAX {
                "hung".to_string()
            } else {
                fmt_ns(v)
            }
        };
        println!(
            "| {name} | {} | {} | {} | {hung} |",
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    println!();
}

/// One engine and module reused for every run, as a long-lived host does.
struct ApiProgram {
    engine: *mut weft_engine_t,
    module: *mut weft_module_t,
}

impl ApiProgram {
    fn new(wasm: &[u8], timeout: Duration) -> ApiProgram {
        let (mut engine, mut module) = (null_mut(), null_mut());
        let config = weft_config_new();
        // SAFETY: out-parameters are valid; every handle is used as the C
        // API documents and freed in `drop`.
        unsafe {
            assert!(weft_config_set_timeout_ms(config, timeout.as_millis() as u64).is_null());
            assert!(weft_engine_new(config, &mut engine).is_null());
            weft_config_delete(config);
            assert!(weft_module_new(engine, wasm.as_ptr(), wasm.len(), &mut module).is_null());
        }
        ApiProgram { engine, module }
    }

    /// One storm run's time from `weft_instance_new` to the end of
    /// `weft_instance_delete`; `None` if it hit the timeout.
    fn storm(&self) -> Option<f64> {
        let start = Instant::now();
        let code = self.run(null(), |_| {})?;
        let t = start.elapsed().as_nanos() as f64;
        assert_eq!(code, 7, "storm through the C API: exit code");
        Some(t)
    }

    /// `spinners.wasm n` with its stdout on a pipe: the time from reading
    /// `ready` to `weft_instance_run` returning (every thread stopped), and
    /// to `weft_instance_delete` returning.
    fn end(&self, n: usize) -> Option<(f64, f64)> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let wasi = weft_wasi_config_new();
        // SAFETY: `wasi` is live; strings are valid for the calls.
        unsafe {
            for arg in ["spinners", &n.to_string()] {
                assert!(weft_wasi_config_push_arg(wasi, arg.as_ptr().cast(), arg.len()).is_null());
            }
            assert!(weft_wasi_config_set_stdio_fd(wasi, 1, fds[1]).is_null());
            libc::close(fds[1]);
        }
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 6];
            // SAFETY: reads into `buf` from our pipe's read end.
            let got = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), 6) };
            let ready = Instant::now();
            // SAFETY: our descriptor, closed once.
            unsafe { libc::close(fds[0]) };
            (got == 6 && &buf == b"ready\n").then_some(ready).ok_or(got)
        });
        let mut returned = None;
        let code = self.run(wasi, |_| returned = Some(Instant::now()));
        let deleted = Instant::now();
        // SAFETY: the configuration was copied by `weft_instance_new`.
        unsafe { weft_wasi_config_delete(wasi) };
        let ready = match (reader.join().expect("reader"), code) {
            (Ok(ready), _) => ready,
            // Not even started within the timeout: counted as hung.
            (Err(_), None) => return None,
            (Err(got), Some(code)) => {
                panic!("spinners {n} through the C API: no ready line (read {got}, exit {code})")
            }
        };
        assert_eq!(code?, 3, "spinners through the C API: exit code");
        let returned = returned.expect("run returned");
        Some((
            returned.duration_since(ready).as_nanos() as f64,
            deleted.duration_since(ready).as_nanos() as f64,
        ))
    }

    /// A new instance with `wasi` (NULL: the default) run to its end,
    /// `after_run` called when `weft_instance_run` returned, then deleted.
    /// The exit code, or `None` if the run failed (the timeout).
    fn run(&self, wasi: *const weft_wasi_config_t, after_run: impl FnOnce(())) -> Option<i32> {
        let mut inst = null_mut();
        let mut code = -1;
        // SAFETY: `self.module` is live; the instance is used by this
        // thread only and deleted here.
        let ok = unsafe {
            assert!(weft_instance_new(self.module, wasi, null(), &mut inst).is_null());
            let err = weft_instance_run(inst, &mut code);
            after_run(());
            let ok = err.is_null();
            weft_error_delete(err);
            weft_instance_delete(inst);
            ok
        };
        ok.then_some(code)
    }
}

impl Drop for ApiProgram {
    fn drop(&mut self) {
        // SAFETY: both handles are live and no longer used.
        unsafe {
            weft_module_delete(self.module);
            weft_engine_delete(self.engine);
        }
    }
}

/// A whole process's wall time, which must exit with `code`; `None` if it
/// was killed after [`HANG`].
fn process_time(cmd: &mut Command, code: i32) -> Option<f64> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let status = wait_or_kill(&mut child, start + HANG)?;
    let t = start.elapsed().as_nanos() as f64;
    assert_eq!(status.code(), Some(code), "{cmd:?}: exit status");
    Some(t)
}

/// Waits for `child` until `deadline`, then kills it (`None`).
fn wait_or_kill(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The `end` rows: from `ready` to the end of the process, N spinners;
/// and through the C API in this process, to `weft_instance_run` returning
/// (every thread stopped) and to `weft_instance_delete` returning.
fn end_latency(dir: &Path, runners: &[Runner], rounds: usize) {
    println!("end: N threads spin, main writes ready and calls exit(3); ready to process end");
    let wasm = std::fs::read(dir.join("spinners.wasm")).expect("read spinners.wasm");
    let api = ApiProgram::new(&wasm, START_UP);
    let mut table = Vec::new();
    let mut api_table = Vec::new();
    for n in [10, 100, 1000] {
        let arg = n.to_string();
        let mut times = vec![Vec::new(); runners.len()];
        let (mut run_returns, mut delete_returns) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            for k in 0..=runners.len() {
                let i = (round + k) % (runners.len() + 1);
                if i == runners.len() {
                    let (r, d) = api.end(n).unwrap_or((f64::MAX, f64::MAX));
                    run_returns.push(r);
                    delete_returns.push(d);
                    continue;
                }
                let t = end_time(&mut runners[i].command(dir, "spinners", &[&arg]));
                times[i].push(t.unwrap_or(f64::MAX));
            }
        }
        let medians: Vec<f64> = times.into_iter().map(median).collect();
        api_table.push((
            n,
            median(run_returns),
            median(delete_returns),
            medians[medians.len() - 1],
        ));
        table.push((n, medians));
    }
    println!();
    print_table("end latency, spinning threads", runners, &table, "threads");
    println!("| in one process (C API), spinning threads | exit to run returning | to delete returning | native process exit | run / native |");
    println!("|---|---|---|---|---|");
    let cell = |t: f64| {
        if t == f64::MAX {
            "hung".to_string()
        } else {
            fmt_ns(t)
        }
    };
    for (n, run, delete, native) in api_table {
        let ratio = if run == f64::MAX {
            "-".to_string()
        } else {
            format!("{:.2}", run / native)
        };
        println!(
            "| {n} threads | {} | {} | {} | {ratio} |",
            cell(run),
            cell(delete),
            cell(native),
        );
    }
    println!();
}

/// From reading `ready` on the child's stdout to its exit (status 3);
/// `None` if it did not end within [`HANG`] of starting.
fn end_time(cmd: &mut Command) -> Option<f64> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 6];
    let read = out.read_exact(&mut buf);
    let ready = Instant::now();
    if read.is_err() || &buf != b"ready\n" {
        let status = wait_or_kill(&mut child, start + HANG);
        panic!("{cmd:?}: no ready line ({status:?})");
    }
    let status = wait_or_kill(&mut child, ready + HANG)?;
    let t = ready.elapsed().as_nanos() as f64;
    assert_eq!(status.code(), Some(3), "{cmd:?}: exit status");
    Some(t)
}

/// The `spawn` row: ns per created and joined thread.
fn spawn_join(dir: &Path, runners: &[Runner], rounds: usize) {
    println!("spawn: pthread_create + pthread_join, 5,000 threads one at a time; per thread after the 200th");
    let mut times = vec![Vec::new(); runners.len()];
    for round in 0..rounds {
        for k in 0..runners.len() {
            let i = (round + k) % runners.len();
            let out = runners[i]
                .command(dir, "spawn_join", &["5000"])
                .output()
                .expect("spawn");
            assert!(
                out.status.success(),
                "{}: spawn_join {}",
                runners[i].name,
                out.status
            );
            let ns: f64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("ns per thread");
            times[i].push(ns);
        }
    }
    let table = vec![(5000, times.into_iter().map(median).collect::<Vec<_>>())];
    print_table("spawn + join, per thread", runners, &table, "threads");
}

/// A markdown table: one row per `(n, medians)`, a column per runner and
/// each runner's ratio to native (the last runner).
fn print_table(title: &str, runners: &[Runner], rows: &[(usize, Vec<f64>)], what: &str) {
    let names: Vec<&str> = runners.iter().map(|r| r.name).collect();
    let others = &names[..names.len() - 1];
    println!(
        "| {title} | {} | {} |",
        names.join(" | "),
        others
            .iter()
            .map(|n| format!("{n} / native"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(names.len() + others.len()));
    for (n, medians) in rows {
        let native = medians[medians.len() - 1];
        let cell = |t: f64| {
            if t == f64::MAX {
                "hung".to_string()
            } else {
                fmt_ns(t)
            }
        };
        println!(
            "| {n} {what} | {} | {} |",
            medians
                .iter()
                .map(|t| cell(*t))
                .collect::<Vec<_>>()
                .join(" | "),
            medians[..medians.len() - 1]
                .iter()
                .map(|t| if *t == f64::MAX {
                    "-".to_string()
                } else {
                    format!("{:.2}", t / native)
                })
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    println!();
}
