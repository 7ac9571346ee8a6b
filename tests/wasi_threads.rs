//! Many threads using one WASI context at once (WAT guests with a shared
//! memory, `wasi` `thread-spawn` and `wasi_thread_start`).

mod common;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use weft::runtime::Outcome;
use weft::wasi::Stdio;

/// Imports and helpers every guest here shares. Memory layout: 0..16 main's
/// results, 16 the "threads done" counter, 20 a "ready" flag, 100..4096
/// constant data, 4096 + 256 * arg each thread's scratch space.
const PRELUDE: &str = r#"
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))

  (func $scratch (param $arg i32) (result i32)
    (i32.add (i32.const 4096) (i32.mul (local.get $arg) (i32.const 256))))

  ;; poll_oneoff with one relative monotonic clock subscription.
  (func $sleep_ms (param $ms i64) (param $s i32) (result i32)
    (i64.store (local.get $s) (i64.const 7))
    (i32.store8 (i32.add (local.get $s) (i32.const 8)) (i32.const 0))
    (i32.store (i32.add (local.get $s) (i32.const 16)) (i32.const 1))
    (i64.store (i32.add (local.get $s) (i32.const 24)) (i64.mul (local.get $ms) (i64.const 1000000)))
    (i64.store (i32.add (local.get $s) (i32.const 32)) (i64.const 0))
    (i32.store16 (i32.add (local.get $s) (i32.const 40)) (i32.const 0))
    (call $poll (local.get $s) (i32.add (local.get $s) (i32.const 48)) (i32.const 1)
                (i32.add (local.get $s) (i32.const 80))))

  ;; fd_write of one buffer; returns the errno.
  (func $write (param $fd i32) (param $ptr i32) (param $len i32) (param $s i32) (result i32)
    (i32.store (local.get $s) (local.get $ptr))
    (i32.store (i32.add (local.get $s) (i32.const 4)) (local.get $len))
    (call $fd_write (local.get $fd) (local.get $s) (i32.const 1) (i32.add (local.get $s) (i32.const 8))))

  ;; fd_read into one buffer; returns the errno, bytes read at $s+8.
  (func $read (param $fd i32) (param $ptr i32) (param $len i32) (param $s i32) (result i32)
    (i32.store (local.get $s) (local.get $ptr))
    (i32.store (i32.add (local.get $s) (i32.const 4)) (local.get $len))
    (call $fd_read (local.get $fd) (local.get $s) (i32.const 1) (i32.add (local.get $s) (i32.const 8))))

  (func $done
    (drop (i32.atomic.rmw.add (i32.const 16) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 16) (i32.const 100))))

  ;; Waits until the done counter reaches $n.
  (func $wait_done (param $n i32) (local $c i32)
    (loop $l
      (local.set $c (i32.atomic.load (i32.const 16)))
      (if (i32.lt_u (local.get $c) (local.get $n))
        (then
          (drop (memory.atomic.wait32 (i32.const 16) (local.get $c) (i64.const 10000000)))
          (br $l)))))

  (func $spawn_n (param $n i32) (local $i i32)
    (loop $l
      (if (i32.lt_s (call $spawn (local.get $i)) (i32.const 0)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
"#;

fn module(body: &str) -> Vec<u8> {
    format!("(module {PRELUDE} {body})").into_bytes()
}

fn pipe() -> (Arc<OwnedFd>, std::fs::File) {
    let (r, w) = rustix::pipe::pipe().expect("pipe");
    (Arc::new(r), std::fs::File::from(w))
}

#[test]
fn concurrent_append_writes_lose_nothing() {
    const THREADS: usize = 8;
    const LINES: usize = 300;
    let wat = module(&format!(
        r#"
  (data (i32.const 100) "log.txt")
  (data (i32.const 200) "t0-aaaaaa\nt1-bbbbbb\nt2-cccccc\nt3-dddddd\nt4-eeeeee\nt5-ffffff\nt6-gggggg\nt7-hhhhhh\n")
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (local $i i32)
    (loop $l
      (if (call $write (i32.load (i32.const 0)) (i32.add (i32.const 200) (i32.mul (local.get $arg) (i32.const 10)))
                       (i32.const 10) (call $scratch (local.get $arg)))
        (then unreachable))
      (if (i32.ne (i32.load (i32.add (call $scratch (local.get $arg)) (i32.const 8))) (i32.const 10))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const {LINES}))))
    (call $done))
  (func (export "_start")
    ;; path_open(3, follow, "log.txt", CREAT|TRUNC, FD_WRITE, 0, APPEND, &fd@0)
    (local $e i32)
    (local.set $e (call $path_open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 7)
                         (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 1) (i32.const 0)))
    (if (local.get $e) (then (call $exit (i32.add (i32.const 100) (local.get $e)))))
    (call $spawn_n (i32.const {THREADS}))
    (call $wait_done (i32.const {THREADS})))
"#
    ));
    let dir = scratch_dir("append");
    let mut cfg = captured(&["append"]);
    cfg.preopen_dir(&dir, "/");
    let r = run_bytes(&wat, &cfg);
    assert_ok(&r);
    let text = std::fs::read_to_string(dir.join("log.txt")).unwrap();
    assert_eq!(text.len(), THREADS * LINES * 10, "bytes were lost");
    for t in 0..THREADS {
        let letter = (b'a' + t as u8) as char;
        let want = format!("t{t}-{}", letter.to_string().repeat(6));
        let n = text.lines().filter(|l| *l == want).count();
        assert_eq!(n, LINES, "thread {t} lines");
    }
    assert_eq!(text.lines().count(), THREADS * LINES, "torn lines");
}

#[test]
fn closing_an_fd_while_another_thread_reads_it_is_safe() {
    // Thread 1 blocks reading stdin (a pipe); main closes fd 0 under it,
    // checks fd 0 is gone (EBADF), and says "closed". Then the host writes
    // to the pipe: the blocked read still completes on the open file.
    let wat = module(
        r#"
  (data (i32.const 100) "closed\n")
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (local $s i32)
    (local.set $s (call $scratch (local.get $arg)))
    (i32.atomic.store (i32.const 20) (i32.const 1))
    (if (call $read (i32.const 0) (i32.const 2000) (i32.const 64) (local.get $s)) (then unreachable))
    (drop (call $write (i32.const 1) (i32.const 2000) (i32.load (i32.add (local.get $s) (i32.const 8)))
                       (i32.add (local.get $s) (i32.const 128))))
    (call $done))
  (func (export "_start") (local $s i32)
    (local.set $s (call $scratch (i32.const 10)))
    (call $spawn_n (i32.const 1))
    (loop $l (br_if $l (i32.eqz (i32.atomic.load (i32.const 20)))))
    (drop (call $sleep_ms (i64.const 100) (local.get $s)))
    (if (call $fd_close (i32.const 0)) (then unreachable))
    ;; fd 0 is gone now
    (if (i32.ne (call $read (i32.const 0) (i32.const 2000) (i32.const 1) (local.get $s)) (i32.const 8))
      (then unreachable))
    (drop (call $write (i32.const 1) (i32.const 100) (i32.const 7) (local.get $s)))
    (call $wait_done (i32.const 1)))
"#,
    );
    let (r, mut w) = pipe();
    let mut cfg = captured(&["close"]);
    cfg.stdin(Stdio::Fd(r));
    let inst = instance(&wat, &cfg, Some(Duration::from_secs(20)));
    inst.start().unwrap();
    let t0 = Instant::now();
    while !String::from_utf8_lossy(&inst.wasi().captured_stdout()).contains("closed") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "guest never closed fd 0"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    w.write_all(b"late data").unwrap();
    let outcome = inst.wait(None).unwrap();
    assert_eq!(outcome, Outcome::Exit(0));
    assert_eq!(
        String::from_utf8_lossy(&inst.wasi().captured_stdout()),
        "closed\nlate data"
    );
}

#[test]
fn a_thread_blocked_on_stdin_does_not_stop_others_printing() {
    const PRINTERS: usize = 3;
    const LINES: usize = 100;
    let wat = module(&format!(
        r#"
  (data (i32.const 100) "p0\np1\np2\n")
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (local $i i32) (local $s i32)
    (local.set $s (call $scratch (local.get $arg)))
    (if (i32.eqz (local.get $arg))
      (then
        ;; the reader: blocks until the program ends
        (drop (call $read (i32.const 0) (i32.const 2000) (i32.const 64) (local.get $s)))
        unreachable))
    (loop $l
      (if (call $write (i32.const 1) (i32.add (i32.const 97) (i32.mul (local.get $arg) (i32.const 3)))
                       (i32.const 3) (local.get $s))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const {LINES}))))
    (call $done))
  (func (export "_start")
    (call $spawn_n (i32.const {n}))
    (call $wait_done (i32.const {PRINTERS}))
    (call $exit (i32.const 0)))
"#,
        n = PRINTERS + 1
    ));
    let (r, _w) = pipe(); // the write end stays open: the reader never gets data
    let mut cfg = captured(&["stdin"]);
    cfg.stdin(Stdio::Fd(r));
    let started = Instant::now();
    let res = run_bytes(&wat, &cfg);
    assert_ok(&res);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the blocked reader held the program up for {:?}",
        started.elapsed()
    );
    for p in 0..PRINTERS {
        let want = format!("p{p}");
        assert_eq!(res.stdout.lines().filter(|l| *l == want).count(), LINES);
    }
}

#[test]
fn four_threads_sleeping_500ms_finish_together() {
    let wat = module(
        r#"
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (call $sleep_ms (i64.const 500) (call $scratch (local.get $arg))) (then unreachable))
    (call $done))
  (func (export "_start")
    (call $spawn_n (i32.const 4))
    (call $wait_done (i32.const 4)))
"#,
    );
    let started = Instant::now();
    let r = run_bytes(&wat, &captured(&["sleep"]));
    let took = started.elapsed();
    assert_ok(&r);
    assert!(took >= Duration::from_millis(500), "slept only {took:?}");
    assert!(
        took < Duration::from_millis(1500),
        "sleeps were serialised: {took:?}"
    );
}

#[test]
fn ending_the_program_wakes_sleepers_and_blocked_readers() {
    // Thread 0 sleeps for a minute, thread 1 blocks on an empty pipe; main
    // exits after both have started.
    let wat = module(
        r#"
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (i32.atomic.rmw.add (i32.const 20) (i32.const 1)))
    (if (i32.eqz (local.get $arg))
      (then (drop (call $sleep_ms (i64.const 60000) (call $scratch (local.get $arg)))))
      (else (drop (call $read (i32.const 0) (i32.const 2000) (i32.const 8) (call $scratch (local.get $arg))))))
    unreachable)
  (func (export "_start")
    (call $spawn_n (i32.const 2))
    (loop $l (br_if $l (i32.lt_u (i32.atomic.load (i32.const 20)) (i32.const 2))))
    (drop (call $sleep_ms (i64.const 50) (call $scratch (i32.const 10))))
    (call $exit (i32.const 3)))
"#,
    );
    let (r, _w) = pipe();
    let mut cfg = captured(&["wake"]);
    cfg.stdin(Stdio::Fd(r));
    let started = Instant::now();
    let res = run_bytes(&wat, &cfg);
    assert_eq!(res.outcome, Outcome::Exit(3));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_timeout_wakes_a_main_thread_blocked_in_wasi() {
    let wat = module(
        r#"
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (call $sleep_ms (i64.const 60000) (call $scratch (local.get $arg)))))
  (func (export "_start")
    (call $spawn_n (i32.const 1))
    (drop (call $read (i32.const 0) (i32.const 2000) (i32.const 8) (call $scratch (i32.const 10))))
    unreachable)
"#,
    );
    let (r, _w) = pipe();
    let mut cfg = captured(&["timeout"]);
    cfg.stdin(Stdio::Fd(r));
    let inst = instance(&wat, &cfg, Some(Duration::from_millis(200)));
    let started = Instant::now();
    let outcome = inst.run().unwrap();
    assert_eq!(outcome, Outcome::TimedOut);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}
