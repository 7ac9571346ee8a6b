//! The threads the end of a program stopped, as the end found them: what
//! each was doing, and the frames of the trap (or stop error) it unwound
//! with. A dump taken once the program has ended lists them (a final dump:
//! `weft-run --timeout`, `interrupt` followed by a dump).
//!
//! While a program runs, a thread running wasm code answers a dump only at
//! an epoch check (`Config::precise_dumps`); weft's default stop checks
//! cannot answer. But at the end every thread stops, running wasm at its
//! next stop check, and that trap carries the backtrace Wasmtime captures
//! for every trap: so the final dump has the frames of every thread that
//! stopped, whatever the checks.
//!
//! Nothing is recorded while the program runs. Each stopped thread records
//! itself once, as it unwinds after the end: a snapshot of its own state
//! (which the unwinding left as it was: see `waits`, the WASI layer's
//! `call_stopped`, host functions) and the backtrace taken out of its error,
//! pushed under a lock. The frames are put into text only when a dump asks
//! for them.

use std::sync::{Mutex, MutexGuard};

use wasmtime::WasmBacktrace;

use crate::runtime::observe::thread_state::ThreadInfo;

/// One stopped thread: as the end found it, and the backtrace of its stop.
type StoppedThread = (ThreadInfo, Option<WasmBacktrace>);

/// The stopped threads of one run (none until it ends).
#[derive(Default)]
pub(crate) struct StoppedThreads {
    threads: Mutex<Vec<StoppedThread>>,
}

impl StoppedThreads {
    fn threads(&self) -> MutexGuard<'_, Vec<StoppedThread>> {
        self.threads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A thread stopped by the end, as it was then, and the backtrace of
    /// its stop (`None`: Wasmtime captured none).
    pub(crate) fn record(&self, info: ThreadInfo, backtrace: Option<WasmBacktrace>) {
        self.threads().push((info, backtrace));
    }

    /// The threads at the end: every stopped thread, with its frames
    /// (`text` puts a backtrace into text), and the `live` ones (still
    /// registered: not stopped yet, or a main thread that stays registered)
    /// that did not stop, by TID.
    pub(crate) fn with_live(
        &self,
        live: Vec<ThreadInfo>,
        text: impl Fn(&WasmBacktrace) -> String,
    ) -> Vec<ThreadInfo> {
        let mut out: Vec<ThreadInfo> = self
            .threads()
            .iter()
            .map(|(info, bt)| ThreadInfo {
                backtrace: Some(bt.as_ref().map(&text).unwrap_or_default()),
                ..info.clone()
            })
            .collect();
        for t in live {
            if !out.iter().any(|s| s.tid == t.tid) {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.tid);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::observe::thread_state::ThreadState;
    use std::time::Duration;

    fn info(tid: u32, state: ThreadState) -> ThreadInfo {
        ThreadInfo {
            tid,
            os_tid: None,
            os_name: String::new(),
            state,
            cpu_time: Duration::ZERO,
            in_state: Duration::ZERO,
            backtrace: None,
        }
    }

    #[test]
    fn a_stopped_thread_is_listed_once() {
        let stopped = StoppedThreads::default();
        stopped.record(info(2, ThreadState::Running), None);
        stopped.record(info(0, ThreadState::Running), None);
        // The main thread of a reactor stays registered, idle; thread 3 has
        // not stopped.
        let live = vec![
            info(0, ThreadState::Idle),
            info(3, ThreadState::HostCall("env.f".into())),
        ];
        let threads = stopped.with_live(live, |_| unreachable!());
        let tids: Vec<u32> = threads.iter().map(|t| t.tid).collect();
        assert_eq!(tids, [0, 2, 3]);
        // Stopped without a backtrace: no frames, but an answer.
        assert_eq!(threads[0].state, ThreadState::Running);
        assert_eq!(threads[0].backtrace.as_deref(), Some(""));
        assert_eq!(threads[2].backtrace, None);
    }
}
