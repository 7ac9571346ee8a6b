//! No thread outlives its program (issue 11): the start function's threads,
//! spawns racing the end, host errors in reactor calls, `wait`'s timeout while
//! threads unwind, and re-entering an instance from its own host callback.
//!
//! The tests of this file run one at a time: they count the process's
//! threads and its CPU time.

#[path = "termination/probe.rs"]
mod probe;

use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use weft::runtime::{
    Config, Engine, ErrorKind, HostFunc, HostFuncs, Instance, Outcome, Program, Val, ValType,
    STOP_GRACE,
};
use weft::wasi::WasiConfig;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// CPU time (user + system) this process has used so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Asserts that no thread of any program is left: none named `weft-*`
/// (other than idle pool threads), and the process uses no CPU for a while.
fn assert_quiet(what: &str) {
    let left = probe::until(Duration::from_secs(2), || {
        probe::program_threads().is_empty()
    });
    assert!(
        left.is_some(),
        "{what}: program threads still alive: {:?}",
        probe::program_threads()
    );
    let (cpu, at) = (cpu_time(), Instant::now());
    std::thread::sleep(Duration::from_millis(200));
    let used = cpu_time() - cpu;
    // A spinning guest thread would use all of the 200 ms.
    assert!(
        used < Duration::from_millis(60),
        "{what}: {used:?} of CPU used in {:?} after the end",
        at.elapsed()
    );
}

fn host_func(
    name: &str,
    params: Vec<ValType>,
    results: Vec<ValType>,
    body: impl Fn(&[Val], &mut [Val]) -> Result<(), String> + Send + Sync + 'static,
) -> HostFunc {
    HostFunc {
        module: "env".into(),
        name: name.into(),
        params,
        results,
        callback: Arc::new(move |_call, args, results| body(args, results)),
    }
}

/// A start function that spawns a thread calling `env.tick` in a loop and a
/// compute-only spinner, waits until the first has ticked, then runs `end`.
fn start_function_guest(end: &str) -> String {
    format!(
        r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "tick" (func $tick))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (if (local.get 1)
          (then
            (i32.atomic.store (i32.const 0) (i32.const 1))
            (loop $l (call $tick) (br $l)))
          (else
            (i32.atomic.store (i32.const 4) (i32.const 1))
            (loop $s (br $s)))))
      (func $start
        ;; Every thread's instance runs the start function: only the first acts.
        (if (i32.atomic.rmw.cmpxchg (i32.const 8) (i32.const 0) (i32.const 1))
          (then (return)))
        (drop (call $spawn (i32.const 1)))
        (drop (call $spawn (i32.const 0)))
        (loop $w
          (br_if $w (i32.eqz (i32.and (i32.atomic.load (i32.const 0))
                                      (i32.atomic.load (i32.const 4))))))
        {end})
      (start $start))"#
    )
}

fn start_function_ends(end: &str, expect: ErrorKind) {
    let _serial = serial();
    let ticks = Arc::new(AtomicU64::new(0));
    let inside = Arc::new(AtomicU64::new(0));
    let mut host = HostFuncs::new();
    let (t, i) = (ticks.clone(), inside.clone());
    host.define(host_func("tick", vec![], vec![], move |_, _| {
        i.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2));
        t.fetch_add(1, Ordering::SeqCst);
        i.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }));
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, start_function_guest(end).as_bytes()).unwrap();
    let err = match Instance::new(&program, &WasiConfig::new(), &host) {
        Ok(_) => panic!("the start function ended the program; new must fail"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), expect, "{err}");
    // Stopped and joined before `new` returned: no thread inside a host
    // call, and not one more tick.
    assert_eq!(
        inside.load(Ordering::SeqCst),
        0,
        "a thread is still running"
    );
    let before = ticks.load(Ordering::SeqCst);
    assert!(before > 0);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        before,
        "a thread kept running"
    );
    assert_quiet("start function");
}

#[test]
fn trap_in_start_function_stops_its_threads_before_new_returns() {
    start_function_ends("unreachable", ErrorKind::Instantiate);
}

#[test]
fn exit_in_start_function_stops_its_threads_before_new_returns() {
    start_function_ends("(call $exit (i32.const 3))", ErrorKind::Exited);
}

/// Two spawner threads spawn children that spin forever, as fast as they
/// can, from the moment the main thread sets `go` until it calls
/// `proc_exit(7)` shortly after. A child whose store is set up while the end
/// is decided must still be stopped.
const SPAWN_STORM: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (if (local.get 1)
      (then
        (loop $go (br_if $go (i32.eqz (i32.atomic.load (i32.const 0)))))
        (loop $l (drop (call $spawn (i32.const 0))) (br $l)))
      (else (loop $s (br $s)))))
  (func (export "_start") (local $i i32)
    (drop (call $spawn (i32.const 1)))
    (drop (call $spawn (i32.const 1)))
    (i32.atomic.store (i32.const 0) (i32.const 1))
    (loop $w
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $w (i32.lt_u (local.get $i) (i32.const 400000))))
    (call $exit (i32.const 7))))"#;

/// Runs per host thread of the spawn stress (`WEFT_STRESS_RUNS` overrides).
fn stress_runs() -> usize {
    std::env::var("WEFT_STRESS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

/// Runs [`SPAWN_STORM`] `runs` times on each of `hosts` host threads, each
/// with its own engine or all on one, checking after every run that no
/// guest thread is alive.
fn spawn_storm(hosts: usize, shared_engine: bool) {
    let config = Config {
        max_threads: 12,
        ..Config::default()
    };
    let shared = Engine::new(&config).unwrap();
    let runs = stress_runs();
    let hosts: Vec<_> = (0..hosts)
        .map(|_| {
            let engine = if shared_engine {
                shared.clone()
            } else {
                Engine::new(&config).unwrap()
            };
            std::thread::spawn(move || {
                let program = Program::from_bytes(&engine, SPAWN_STORM.as_bytes()).unwrap();
                for i in 0..runs {
                    let inst = Instance::new(&program, &WasiConfig::new(), &HostFuncs::new())
                        .expect("instantiate");
                    let outcome = inst.run().expect("run");
                    assert_eq!(outcome, Outcome::Exit(7), "run {i}");
                    // Normally none is left when `run` returns; on a machine
                    // with far more spinning threads than cores, some take
                    // longer than the grace period to be scheduled. A thread
                    // that missed the end never stops.
                    let stopped = probe::until(Duration::from_secs(10), || inst.stats().live == 0);
                    assert!(
                        stopped.is_some(),
                        "run {i}: threads still alive after 10 s: {:?}",
                        inst.stats()
                    );
                }
            })
        })
        .collect();
    for h in hosts {
        h.join().expect("a stress host failed");
    }
    assert_quiet("spawn stress");
}

/// Alone on its engine, a child that misses the end's epoch increment is
/// bumped by nobody else.
#[test]
fn spawns_racing_the_end_leave_no_thread_running() {
    let _serial = serial();
    spawn_storm(2, false);
}

/// Programs sharing an engine bump each other's epoch at every end, so the
/// epoch callbacks of running threads race the end too.
#[test]
fn spawns_racing_the_end_on_a_shared_engine_leave_no_thread_running() {
    let _serial = serial();
    spawn_storm(3, true);
}

#[test]
fn host_error_in_a_reactor_call_traps_the_program() {
    let _serial = serial();
    let wat = r#"(module
      (import "env" "fail" (func $fail (param i32)))
      (func (export "go") (call $fail (i32.const 1)))
      (func (export "ok") (result i32) (i32.const 1)))"#;
    let mut host = HostFuncs::new();
    host.define(host_func("fail", vec![ValType::I32], vec![], |_, _| {
        Err("boom".into())
    }));
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &WasiConfig::new(), &host).unwrap();
    // A wrong argument is still the caller's mistake, not a trap.
    let bad = inst.call("go", &[Val::I64(1)]).unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidArgument, "{bad}");
    assert_eq!(inst.outcome(), None);
    let err = inst.call("go", &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Trap, "{err}");
    match inst.outcome() {
        Some(Outcome::Trap(info)) => {
            assert_eq!(info.tid, 0);
            assert!(info.message.contains("boom"), "{}", info.message);
        }
        other => panic!("expected the program to end as a trap, got {other:?}"),
    }
    // The program has ended: every later call reports how.
    assert_eq!(inst.call("ok", &[]).unwrap_err().kind(), ErrorKind::Trap);
}

#[test]
fn wait_returns_within_its_timeout_while_threads_unwind() {
    let _serial = serial();
    // A child stuck for 1 s in a host function that ignores the stop;
    // the main thread exits as soon as the child is inside it (told by the
    // host function itself: a flag in guest memory set just before the call
    // leaves a window in which the end makes the call trap at once, which
    // ThreadSanitizer's slower host calls hit).
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "stall" (func $stall))
      (import "env" "stalled" (func $stalled))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (call $stall))
      (func (export "_start")
        (drop (call $spawn (i32.const 0)))
        (call $stalled)
        (call $exit (i32.const 0))))"#;
    let inside = Arc::new(AtomicBool::new(false));
    let mut host = HostFuncs::new();
    let flag = inside.clone();
    host.define(host_func("stall", vec![], vec![], move |_, _| {
        flag.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(1000));
        Ok(())
    }));
    let flag = inside.clone();
    host.define(host_func("stalled", vec![], vec![], move |_, _| {
        let stalled = probe::until(Duration::from_secs(10), || flag.load(Ordering::SeqCst));
        stalled
            .map(|_| ())
            .ok_or_else(|| "the child never entered stall".into())
    }));
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &WasiConfig::new(), &host).unwrap();
    inst.start().unwrap();
    assert!(probe::until(Duration::from_secs(5), || inst.outcome().is_some()).is_some());
    let ended = Instant::now();
    for timeout in [0, 5, 20] {
        let at = Instant::now();
        let r = inst.wait(Some(Duration::from_millis(timeout)));
        let took = at.elapsed();
        assert!(
            took < Duration::from_millis(timeout + 150),
            "wait({timeout} ms) took {took:?} (returned {r:?})"
        );
        // Still unwinding: not reported as finished yet (unless this loaded
        // machine let the grace period pass meanwhile).
        if ended.elapsed() < STOP_GRACE - Duration::from_millis(50) {
            assert_eq!(r, None, "wait({timeout} ms)");
        }
    }
    // Without a timeout it reports the outcome once the grace period is over.
    assert_eq!(inst.wait(None), Some(Outcome::Exit(0)));
}

#[test]
fn reentering_an_instance_from_its_host_callback_is_a_state_error() {
    let _serial = serial();
    let wat = r#"(module
      (import "env" "reenter" (func $reenter (result i32)))
      (func (export "outer") (result i32) (call $reenter))
      (func (export "inner") (result i32) (i32.const 5)))"#;
    let slot: Arc<AtomicPtr<Instance>> = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
    let s = slot.clone();
    let mut host = HostFuncs::new();
    host.define(host_func(
        "reenter",
        vec![],
        vec![ValType::I32],
        move |_, out| {
            // SAFETY: the test keeps the instance alive during the call.
            let inst = unsafe { &*s.load(Ordering::SeqCst) };
            let code = match inst.call("inner", &[]) {
                Err(e) if e.kind() == ErrorKind::State => 1,
                Err(_) => 2,
                Ok(_) => 3,
            };
            out[0] = Val::I32(code);
            Ok(())
        },
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let engine = Engine::new(&Config::default()).unwrap();
        let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
        let mut inst = Instance::new(&program, &WasiConfig::new(), &host).unwrap();
        slot.store(&mut inst, Ordering::SeqCst);
        let outer = inst.call("outer", &[]).map(|v| v[0].unwrap_i32());
        // The instance still works afterwards.
        let inner = inst.call("inner", &[]).map(|v| v[0].unwrap_i32());
        let _ = tx.send((
            outer.map_err(|e| e.to_string()),
            inner.map_err(|e| e.to_string()),
        ));
    });
    let (outer, inner) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("re-entering the instance deadlocked");
    assert_eq!(
        outer,
        Ok(1),
        "the nested call must fail with WEFT_ERROR_STATE"
    );
    assert_eq!(inner, Ok(5));
}

/// A guest that opens `name` in the preopened directory (fd 3) for writing
/// and writes 64 KiB to it in a loop, forever. Exits with 100 + errno if the
/// open fails, 200 + errno if a write does.
fn fifo_writer(name: &str) -> String {
    format!(
        r#"(module
      (import "wasi_snapshot_preview1" "path_open"
        (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 2)
      (data (i32.const 100) "{name}")
      (func (export "_start") (local $e i32)
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 65536))
        (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const {len})
                                  (i32.const 0) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 20)))
        (if (local.get $e) (then (call $exit (i32.add (i32.const 100) (local.get $e)))))
        (loop $l
          (local.set $e (call $write (i32.load (i32.const 20)) (i32.const 0) (i32.const 1) (i32.const 16)))
          (if (local.get $e) (then (call $exit (i32.add (i32.const 200) (local.get $e)))))
          (br $l))))"#,
        len = name.len()
    )
}

#[test]
fn the_timeout_stops_blocked_fifo_writes_and_opens() {
    let _serial = serial();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lifecycle-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["full", "noreader"] {
        let path = std::ffi::CString::new(dir.join(name).to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    }
    // A reader that never reads: the guest's writes fill the FIFO and block.
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("full"))
        .unwrap();
    let config = Config {
        timeout: Some(Duration::from_millis(300)),
        ..Config::default()
    };
    let engine = Engine::new(&config).unwrap();
    // "full": blocked in fd_write; "noreader": blocked opening a FIFO that
    // nobody opens for reading.
    for name in ["full", "noreader"] {
        let program = Program::from_bytes(&engine, fifo_writer(name).as_bytes()).unwrap();
        let mut wasi = WasiConfig::new();
        wasi.preopen_dir(&dir, "/");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let inst = Instance::new(&program, &wasi, &HostFuncs::new()).unwrap();
            let at = Instant::now();
            let _ = tx.send((inst.run().map_err(|e| e.to_string()), at.elapsed()));
        });
        let (outcome, took) = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{name}: the blocked thread was not stopped"));
        assert_eq!(outcome, Ok(Outcome::TimedOut), "{name}");
        assert!(took < Duration::from_secs(2), "{name}: took {took:?}");
    }
    assert_quiet("fifo");
}
