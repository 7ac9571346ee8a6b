//! The termination matrix: who ends a program × how × what the other threads
//! are doing, each cell measured. Shared by `tests/termination.rs` and
//! `examples/termination_table.rs`.
#![allow(dead_code)] // each including crate uses a different subset

use std::fmt;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::runtime::{
    Config, Engine, HostFunc, HostFuncs, Instance, Outcome, Program, Val, ValType,
};
use weft::wasi::{Stdio, WasiConfig};

use super::probe;

/// How long the timeout cells' programs may run.
pub const TIMEOUT: Duration = Duration::from_millis(300);

/// How the program ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ender {
    MainExit,
    MainReturn,
    MainTrap,
    ChildExit,
    ChildTrap,
    HostInterrupt,
    HostTimeout,
}

impl Ender {
    pub const ALL: [Ender; 7] = [
        Ender::MainExit,
        Ender::MainReturn,
        Ender::MainTrap,
        Ender::ChildExit,
        Ender::ChildTrap,
        Ender::HostInterrupt,
        Ender::HostTimeout,
    ];

    fn code(self) -> i32 {
        match self {
            Ender::MainExit | Ender::MainReturn | Ender::MainTrap => 0,
            Ender::ChildExit | Ender::ChildTrap => 1,
            Ender::HostInterrupt | Ender::HostTimeout => 2,
        }
    }

    fn how(self) -> i32 {
        match self {
            Ender::MainExit | Ender::ChildExit => 0,
            Ender::MainReturn => 1,
            _ => 2,
        }
    }

    /// Threads that enter the state: two children, plus main unless main ends it.
    fn others(self) -> u32 {
        if self.code() == 0 {
            2
        } else {
            3
        }
    }

    fn expected(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Ender::MainExit, Outcome::Exit(7)) => true,
            (Ender::MainReturn, Outcome::Exit(0)) => true,
            (Ender::MainTrap, Outcome::Trap(t)) => t.tid == 0 && t.message.contains("unreachable"),
            (Ender::ChildExit, Outcome::Exit(9)) => true,
            (Ender::ChildTrap, Outcome::Trap(t)) => t.tid >= 1 && t.message.contains("unreachable"),
            (Ender::HostInterrupt, Outcome::Interrupted) => true,
            (Ender::HostTimeout, Outcome::TimedOut) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Ender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ender::MainExit => "main: proc_exit",
            Ender::MainReturn => "main: _start returns",
            Ender::MainTrap => "main: trap",
            Ender::ChildExit => "child: proc_exit",
            Ender::ChildTrap => "child: trap",
            Ender::HostInterrupt => "host: interrupt",
            Ender::HostTimeout => "host: timeout",
        })
    }
}

/// What the other threads are doing when the program ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Spin,
    WaitTimed,
    WaitUntimed,
    Sleep,
    ReadPipe,
    HostCall,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Spin,
        State::WaitTimed,
        State::WaitUntimed,
        State::Sleep,
        State::ReadPipe,
        State::HostCall,
    ];
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Spin => "spinning in wasm",
            State::WaitTimed => "atomic.wait32, 10 s timeout",
            State::WaitUntimed => "atomic.wait32, no timeout",
            State::Sleep => "poll_oneoff sleep 10 s",
            State::ReadPipe => "fd_read on an empty pipe (stdin)",
            State::HostCall => "in a host function (20 ms calls)",
        })
    }
}

/// One guest for every cell; the `cell` imports say which cell it is.
/// Main spawns two children that enter the state; then main ends the
/// program (ender "main"), or spawns a third child that ends it (ender
/// "child") and enters the state itself, as it does when the host ends it.
const GUEST: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "cell" "state" (func $state (result i32)))
  (import "cell" "ender" (func $ender (result i32)))
  (import "cell" "how" (func $how (result i32)))
  (import "cell" "entering" (func $entering))
  (import "cell" "settle" (func $settle))
  (import "cell" "block" (func $block))
  (import "env" "memory" (memory 1 1 shared))
  ;; poll_oneoff subscription: relative 10 s on the monotonic clock
  (data (i32.const 256)
    "\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00"
    "\01\00\00\00\00\00\00\00" "\00\e4\0b\54\02\00\00\00"
    "\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00")
  ;; iovec { buf 512, len 16 }
  (data (i32.const 400) "\00\02\00\00\10\00\00\00")
  (func $in_state (local $s i32)
    (local.set $s (call $state))
    (call $entering)
    (if (i32.eq (local.get $s) (i32.const 0)) (then (loop $l (br $l))))
    (if (i32.eq (local.get $s) (i32.const 1)) (then (loop $l
      (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const 10000000000)))
      (br $l))))
    (if (i32.eq (local.get $s) (i32.const 2)) (then (loop $l
      (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1)))
      (br $l))))
    (if (i32.eq (local.get $s) (i32.const 3)) (then (loop $l
      (drop (call $poll (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 360)))
      (br $l))))
    (if (i32.eq (local.get $s) (i32.const 4)) (then (loop $l
      (drop (call $read (i32.const 0) (i32.const 400) (i32.const 1) (i32.const 420)))
      (br $l))))
    (if (i32.eq (local.get $s) (i32.const 5)) (then (loop $l (call $block) (br $l))))
    unreachable)
  (func $boom unreachable)
  (func $end (param $code i32) (local $how i32)
    (local.set $how (call $how))
    (call $settle)
    (if (i32.eqz (local.get $how)) (then (call $exit (local.get $code))))
    (if (i32.eq (local.get $how) (i32.const 2)) (then (call $boom))))
  (func $must_spawn (param $arg i32)
    (if (i32.le_s (call $spawn (local.get $arg)) (i32.const 0))
      (then (call $exit (i32.const 99)))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (local.get $arg) (then (call $end (i32.const 9)) (return)))
    (call $in_state))
  (func (export "_start") (local $e i32)
    (local.set $e (call $ender))
    (call $must_spawn (i32.const 0))
    (call $must_spawn (i32.const 0))
    (if (i32.eqz (local.get $e)) (then (call $end (i32.const 7)) (return)))
    (if (i32.eq (local.get $e) (i32.const 1)) (then (call $must_spawn (i32.const 1))))
    (call $in_state)))"#;

/// The compiled guest, for runs without and with a timeout.
pub struct Matrix {
    plain: Program,
    timed: Program,
}

/// The measurements of one cell.
pub struct Cell {
    pub ender: Ender,
    pub state: State,
    pub outcome: Outcome,
    pub outcome_ok: bool,
    /// From the end (the guest's last host call, the host's `interrupt`, or
    /// the timeout's expiry) to `run`/`wait` returning.
    pub latency: Duration,
    /// From `run`/`wait` returning until no `weft-*` program thread was left
    /// (`None`: some were still there after a second).
    pub threads_gone: Option<Duration>,
    pub threads_left: Vec<String>,
    /// Open fds after the run minus before it (after waiting up to a second).
    pub fds_leaked: i64,
    /// Whether a small threaded program ran correctly right afterwards.
    pub next_ok: bool,
}

impl Cell {
    /// Everything as required, with `limit` as the bound on latency.
    pub fn ok(&self, limit: Duration) -> bool {
        self.outcome_ok
            && self.latency < limit
            && self.threads_gone.is_some()
            && self.fds_leaked <= 0
            && self.next_ok
    }
}

struct Shared {
    entered: AtomicU32,
    mark: Mutex<Option<Instant>>,
}

fn func(
    name: &str,
    results: &[ValType],
    f: impl Fn(&mut [Val]) + Send + Sync + 'static,
) -> HostFunc {
    HostFunc {
        module: "cell".into(),
        name: name.into(),
        params: vec![],
        results: results.to_vec(),
        callback: Arc::new(move |_, _, r| {
            f(r);
            Ok(())
        }),
    }
}

fn wait_entered(shared: &Shared, n: u32) {
    let _ = probe::until(Duration::from_secs(5), || {
        shared.entered.load(Ordering::SeqCst) >= n
    });
    // Let the threads get from the `entering` call into the blocking state.
    std::thread::sleep(Duration::from_millis(30));
}

impl Matrix {
    pub fn new() -> Matrix {
        // Every thread waiting untimed while the host ends the program would
        // be a deadlock (ended at once by weft): this matrix measures how
        // the host's interrupt and timeout stop such threads, so it turns
        // detection off (tests/deadlock.rs covers detection).
        let plain = Engine::new(&Config {
            deadlock_detection: false,
            ..Config::default()
        })
        .expect("engine");
        let timed = Engine::new(&Config {
            timeout: Some(TIMEOUT),
            deadlock_detection: false,
            ..Config::default()
        })
        .expect("engine");
        Matrix {
            plain: Program::from_bytes(&plain, GUEST.as_bytes()).expect("compile"),
            timed: Program::from_bytes(&timed, GUEST.as_bytes()).expect("compile"),
        }
    }

    /// Runs every cell.
    pub fn run_all(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for ender in Ender::ALL {
            for state in State::ALL {
                cells.push(self.run(ender, state));
            }
        }
        cells
    }

    /// Runs one cell and measures it.
    pub fn run(&self, ender: Ender, state: State) -> Cell {
        // The previous program's last thread may still be dropping its run.
        let _ = probe::until(Duration::from_secs(1), || {
            probe::program_threads().is_empty()
        });
        let fds_before = probe::open_fds();
        let shared = Arc::new(Shared {
            entered: AtomicU32::new(0),
            mark: Mutex::new(None),
        });
        let mut host = HostFuncs::new();
        let code = ender.code();
        let how = ender.how();
        let st = state as i32;
        host.define(func("state", &[ValType::I32], move |r| r[0] = Val::I32(st)));
        host.define(func("ender", &[ValType::I32], move |r| {
            r[0] = Val::I32(code)
        }));
        host.define(func("how", &[ValType::I32], move |r| r[0] = Val::I32(how)));
        let s = shared.clone();
        host.define(func("entering", &[], move |_| {
            s.entered.fetch_add(1, Ordering::SeqCst);
        }));
        let s = shared.clone();
        let others = ender.others();
        host.define(func("settle", &[], move |_| {
            wait_entered(&s, others);
            *s.mark.lock().unwrap() = Some(Instant::now());
        }));
        host.define(func("block", &[], |_| {
            std::thread::sleep(Duration::from_millis(20))
        }));

        let (pipe_read, pipe_write): (OwnedFd, OwnedFd) = rustix::pipe::pipe().expect("pipe");
        let mut wasi = WasiConfig::new();
        wasi.stdout(Stdio::Capture).stderr(Stdio::Capture);
        if state == State::ReadPipe {
            wasi.stdin(Stdio::Fd(Arc::new(pipe_read)));
        } else {
            drop(pipe_read);
            wasi.stdin(Stdio::Null);
        }
        let program = if ender == Ender::HostTimeout {
            &self.timed
        } else {
            &self.plain
        };
        let inst = Instance::new(program, &wasi, &host).expect("instantiate");
        let started = Instant::now();
        inst.start().expect("start");
        let outcome = match ender {
            Ender::HostInterrupt => {
                wait_entered(&shared, others);
                *shared.mark.lock().unwrap() = Some(Instant::now());
                inst.interrupt();
                inst.wait(None)
            }
            _ => inst.wait(None),
        }
        .expect("an outcome");
        let returned = Instant::now();
        let mark = match ender {
            Ender::HostTimeout => Some(started + TIMEOUT),
            _ => *shared.mark.lock().unwrap(),
        };
        let latency = mark.map_or(Duration::MAX, |m| returned.saturating_duration_since(m));
        let threads_gone = probe::until(Duration::from_secs(1), || {
            probe::program_threads().is_empty()
        });
        let threads_left = probe::program_threads();
        drop(inst);
        drop(wasi);
        drop(pipe_write);
        drop(host);
        let _ = probe::until(Duration::from_secs(1), || probe::open_fds() <= fds_before);
        let fds_leaked = probe::open_fds() as i64 - fds_before as i64;
        let next_ok = self.next_program_runs();
        Cell {
            ender,
            state,
            outcome_ok: ender.expected(&outcome),
            outcome,
            latency,
            threads_gone,
            threads_left,
            fds_leaked,
            next_ok,
        }
    }

    fn next_program_runs(&self) -> bool {
        let wat = r#"(module
          (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (import "env" "memory" (memory 1 1 shared))
          (func (export "wasi_thread_start") (param i32 i32)
            (i32.atomic.store (i32.const 0) (i32.const 1))
            (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
          (func (export "_start")
            (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 1))))
            (loop $w (if (i32.eqz (i32.atomic.load (i32.const 0))) (then
              (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
              (br $w))))
            (call $exit (i32.const 5))))"#;
        let Ok(program) = Program::from_bytes(self.plain.engine(), wat.as_bytes()) else {
            return false;
        };
        let Ok(inst) = Instance::new(&program, &WasiConfig::new(), &HostFuncs::new()) else {
            return false;
        };
        matches!(inst.run(), Ok(Outcome::Exit(5)))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn short(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Exit(c) => format!("exit {c}"),
        Outcome::Trap(t) => format!("trap (tid {})", t.tid),
        Outcome::Interrupted => "interrupted".into(),
        Outcome::TimedOut => "timed out".into(),
        Outcome::Deadlock(_) => "deadlock".into(),
    }
}

/// The cells as a Markdown table.
pub fn table(cells: &[Cell], limit: Duration) -> String {
    let mut out = String::from(
        "| ends the program | other threads are | outcome | back to host (ms) | threads gone after (ms) | fds leaked | next program | ok |\n\
         |---|---|---|---:|---:|---:|---|---|\n",
    );
    for c in cells {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.ender,
            c.state,
            short(&c.outcome),
            if c.latency == Duration::MAX {
                "?".into()
            } else {
                ms(c.latency)
            },
            c.threads_gone
                .map_or_else(|| format!("left: {:?}", c.threads_left), ms),
            c.fds_leaked,
            if c.next_ok { "runs" } else { "FAILS" },
            if c.ok(limit) { "yes" } else { "**NO**" },
        ));
    }
    let worst = cells.iter().map(|c| c.latency).max().unwrap_or_default();
    out.push_str(&format!(
        "\n{} cells, {} within {} ms; slowest return to the host: {} ms.\n",
        cells.len(),
        cells
            .iter()
            .filter(|c| c.latency < Duration::from_millis(100))
            .count(),
        100,
        ms(worst)
    ));
    out
}
