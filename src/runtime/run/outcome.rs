//! How a program ended, and the classification of a guest thread's error.

use wasmtime::{AsContextMut, ThrownException, Trap, Val, WasmBacktrace};

use crate::runtime::error::{Error, ErrorKind, TrapInfo};
use crate::runtime::observe::dump::ThreadDump;
use crate::runtime::program::frame_map::{self, FrameMap};
use crate::wasi::{ProcExit, Stopped};

/// How a program ended. Exactly one outcome is decided per run: the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `proc_exit(code)` in any thread, or `_start` returning (code 0).
    Exit(i32),
    /// A guest thread trapped.
    Trap(TrapInfo),
    /// The host called `interrupt`.
    Interrupted,
    /// The run exceeded its wall-clock timeout.
    TimedOut,
    /// Every live thread of the running command was parked in a
    /// `memory.atomic.wait` without a timeout: none could ever wake another.
    /// Holds the thread dump taken when it was detected.
    Deadlock(ThreadDump),
}

impl Outcome {
    /// The exit code, or the error that describes any other ending.
    pub fn into_result(self) -> Result<i32, Error> {
        match self {
            Outcome::Exit(code) => Ok(code),
            Outcome::Trap(info) => Err(Error::trap(info)),
            Outcome::Interrupted => Err(Error::new(
                ErrorKind::Interrupted,
                "the program was interrupted by the host",
            )),
            Outcome::TimedOut => Err(Error::new(
                ErrorKind::TimedOut,
                "the program ran past its timeout",
            )),
            Outcome::Deadlock(dump) => Err(Error::new(
                ErrorKind::Deadlock,
                format!(
                    "deadlock: every thread is waiting in memory.atomic.wait with no \
                     timeout, so none can ever wake another\n{dump}"
                ),
            )),
        }
    }
}

/// The trap message of an exception that no `try_table` of its thread
/// caught: it ends the whole program as a trap.
pub(crate) const UNCAUGHT_EXCEPTION: &str = "uncaught exception: thrown Wasm exception";

/// The values an exception no `try_table` caught carried (its tag's
/// parameters), added to the error of the call it ended.
#[derive(Debug)]
pub(crate) struct ExceptionValues(String);

impl std::fmt::Display for ExceptionValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exception values: {}", self.0)
    }
}

/// When `err` is an uncaught exception, takes the exception out of the
/// thread's `store` and records what it carried (e.g. `(i32 42)`), for the
/// trap message; any other error is returned as it is.
pub(crate) fn with_exception_values(
    mut store: impl AsContextMut,
    err: wasmtime::Error,
) -> wasmtime::Error {
    if !err.is::<ThrownException>() {
        return err;
    }
    let mut store = store.as_context_mut();
    let Some(exn) = store.take_pending_exception() else {
        return err;
    };
    let values = match exn.fields(&mut store) {
        Ok(fields) => fields.map(|v| val_text(&v)).collect::<Vec<_>>().join(" "),
        Err(_) => return err,
    };
    if values.is_empty() {
        return err;
    }
    err.context(ExceptionValues(format!("({values})")))
}

fn val_text(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32 {x}"),
        Val::I64(x) => format!("i64 {x}"),
        Val::F32(x) => format!("f32 {}", f32::from_bits(*x)),
        Val::F64(x) => format!("f64 {}", f64::from_bits(*x)),
        Val::V128(x) => format!("v128 {:#034x}", x.as_u128()),
        _ => "ref".to_string(),
    }
}

/// What a guest thread's failed call means for the program.
pub(crate) enum ThreadEnd {
    /// The thread unwound because the program had already ended.
    Stopped,
    /// The thread called `proc_exit` (its outcome is already recorded).
    Exit(i32),
    /// A real trap.
    Trap(TrapInfo),
}

/// Whether `err`, which a guest call returned, unwound its thread because
/// the program ended (or was ending: `program_ended`), rather than ending it.
pub(crate) fn is_stop(err: &wasmtime::Error, program_ended: bool) -> bool {
    err.downcast_ref::<ProcExit>().is_none()
        && (program_ended || err.downcast_ref::<Stopped>().is_some())
}

/// Classifies the error a guest call on thread `tid` returned.
/// `frames` maps a rewritten module's backtrace back to the original module.
pub(crate) fn classify(
    tid: u32,
    err: &wasmtime::Error,
    program_ended: bool,
    frames: Option<&FrameMap>,
) -> ThreadEnd {
    if let Some(exit) = err.downcast_ref::<ProcExit>() {
        return ThreadEnd::Exit(exit.0);
    }
    if is_stop(err, program_ended) {
        return ThreadEnd::Stopped;
    }
    let message = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        // A `throw` that no `try_table` of this thread caught: Wasmtime's
        // `wasmtime run` reports it as "thrown Wasm exception" (and exits
        // with 1); here it is a trap of the thread, with the values the
        // exception carried when the call site added them
        // (`with_exception_values`, which takes it out of the store).
        None if err.is::<ThrownException>() => match err.downcast_ref::<ExceptionValues>() {
            Some(values) => format!("{UNCAUGHT_EXCEPTION} {}", values.0),
            None => UNCAUGHT_EXCEPTION.to_string(),
        },
        None => err.root_cause().to_string(),
    };
    let backtrace = err
        .downcast_ref::<WasmBacktrace>()
        .map(|bt| frame_map::format(bt, frames))
        .unwrap_or_default();
    ThreadEnd::Trap(TrapInfo {
        tid,
        message,
        backtrace,
    })
}
