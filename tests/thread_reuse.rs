//! OS threads are reused across guest threads and programs, keep the
//! `weft-thread-<tid>` name contract, and park outside every program.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::runtime::{
    release_idle_threads, Config, Engine, HostFunc, HostFuncs, Instance, Outcome, Program,
    IDLE_TIMEOUT,
};
use weft::wasi::WasiConfig;

/// Spawns `n` threads one after another (each joined before the next); each
/// thread reports its TID to the host, which records its OS thread's name.
const GUEST: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "test" "seen" (func $seen (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param $tid i32) (param i32)
    (call $seen (local.get $tid))
    (i32.atomic.store (i32.const 0) (i32.const 1)))
  (func (export "_start") (local $i i32)
    (loop $s
      (i32.atomic.store (i32.const 0) (i32.const 0))
      (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 1)) (then (call $exit (i32.const 1))))
      (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 0)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $s (i32.lt_u (local.get $i) (i32.const 50))))
    (call $exit (i32.const 0))))"#;

type Log = Arc<Mutex<Vec<(i32, String, i32)>>>;

fn os_thread_name() -> String {
    std::fs::read_to_string("/proc/thread-self/comm")
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

fn os_tid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|s| s.trim_end().to_string())
        .collect()
}

fn host(log: &Log) -> HostFuncs {
    let log = log.clone();
    let mut host = HostFuncs::new();
    host.define(HostFunc {
        module: "test".into(),
        name: "seen".into(),
        params: vec![weft::runtime::ValType::I32],
        results: vec![],
        callback: Arc::new(move |_, args, _| {
            let tid = args[0].unwrap_i32();
            log.lock().unwrap().push((tid, os_thread_name(), os_tid()));
            Ok(())
        }),
    });
    host
}

// One test: the pool is process-wide, so concurrent tests would disturb the
// thread counts checked here.
#[test]
fn reused_threads_are_renamed_and_park_outside_programs() {
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
    let log: Log = Arc::default();
    for _ in 0..2 {
        let inst = Instance::new(&program, &WasiConfig::default(), &host(&log)).unwrap();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(0));
        assert_eq!(inst.stats().live, 0);
        drop(inst);
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 100);
    for (tid, name, _) in log.iter() {
        assert!(*tid >= 1);
        assert_eq!(name, &format!("weft-thread-{tid}"));
    }
    let mut os_threads: Vec<i32> = log.iter().map(|e| e.2).collect();
    os_threads.sort();
    os_threads.dedup();
    assert!(
        os_threads.len() < 50,
        "100 guest threads ran on {} OS threads: no reuse",
        os_threads.len()
    );

    // After the programs end, no OS thread carries a guest thread's name;
    // parked ones are `weft-idle`, and leave on request or after IDLE_TIMEOUT.
    let settle = Instant::now() + Duration::from_secs(2);
    while thread_names().iter().any(|n| n.starts_with("weft-thread-")) {
        assert!(Instant::now() < settle, "{:?}", thread_names());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(thread_names().iter().any(|n| n == "weft-idle"));
    release_idle_threads();
    let gone = Instant::now() + Duration::from_secs(2);
    while thread_names().iter().any(|n| n == "weft-idle") {
        assert!(Instant::now() < gone, "{:?}", thread_names());
        std::thread::sleep(Duration::from_millis(5));
    }

    // Idle threads also leave by themselves.
    let inst = Instance::new(&program, &WasiConfig::default(), &host(&Log::default())).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::Exit(0));
    drop(inst);
    std::thread::sleep(IDLE_TIMEOUT);
    let gone = Instant::now() + Duration::from_secs(5);
    while thread_names()
        .iter()
        .any(|n| n == "weft-idle" || n.starts_with("weft-thread-"))
    {
        assert!(Instant::now() < gone, "{:?}", thread_names());
        std::thread::sleep(Duration::from_millis(10));
    }
}
