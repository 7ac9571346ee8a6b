//! The run's side of looking at its threads (`observe`): snapshots and
//! dumps of its live threads, a deadlock (every live thread parked for
//! good) ending the run with a dump, and the final dump: once the program
//! has ended, the threads as the end stopped them, with the frames of their
//! stops (`observe/stopped.rs`).

use std::time::{Duration, Instant};

use wasmtime::WasmBacktrace;

use crate::runtime::engine::Interruption;
use crate::runtime::observe::dump::ThreadDump;
use crate::runtime::observe::registry::DUMP_TIMEOUT;
use crate::runtime::observe::thread_state::ThreadSlot;
use crate::runtime::run::outcome::{is_stop, Outcome};
use crate::runtime::run::state::Run;
use crate::wasi::Stopped;

impl<T> Run<T> {
    /// Every live thread is parked for good: ends the program as a
    /// deadlock with a dump (`own` is the detecting thread's own backtrace).
    pub(crate) fn deadlocked(&self, own: Option<(&ThreadSlot, String)>) {
        if self.is_ended() {
            return;
        }
        let dump = self.dump_running(own, DUMP_TIMEOUT);
        log::debug!("deadlock detected\n{dump}");
        self.decide_from_outside(Outcome::Deadlock(dump));
    }

    /// Starts deadlock detection (a command's `_start` begins), if configured.
    pub(crate) fn arm_deadlock_detection(&self) {
        if self.config.deadlock_detection && self.threads.census.arm() {
            self.deadlocked(None);
        }
    }

    /// Every live thread's state now, without backtraces (disturbs no one).
    pub(crate) fn snapshot(&self) -> ThreadDump {
        ThreadDump {
            threads: self.threads.snapshot(),
            with_backtraces: false,
            running_frames: false,
            at_end: false,
        }
    }

    /// A thread dump, waiting at most `timeout` for the answers: while the
    /// program runs, every live thread with its backtrace (see `registry`);
    /// once it has ended, the threads as the end stopped them, with the
    /// frames of their stops, waiting for the threads still unwinding.
    pub(crate) fn dump(&self, timeout: Duration) -> ThreadDump {
        if self.is_ended() {
            self.dump_at_end(Instant::now() + timeout)
        } else {
            self.dump_running(None, timeout)
        }
    }

    /// A dump of the running program: nudges parked threads and ticks the
    /// epoch so every thread answers with its backtrace.
    fn dump_running(&self, own: Option<(&ThreadSlot, String)>, timeout: Duration) -> ThreadDump {
        let threads = self.threads.dump(
            || {
                self.parking.nudge();
                self.program.engine.wasmtime().increment_epoch();
            },
            self.program.engine.interruption() == Interruption::Epochs,
            own,
            timeout,
        );
        ThreadDump {
            threads,
            with_backtraces: true,
            running_frames: self.program.engine.interruption() == Interruption::Epochs,
            at_end: false,
        }
    }

    /// The final dump: waits (until `deadline` at most) for the threads to
    /// stop, then lists the stopped ones with their frames and those left
    /// (in a host function that has not returned, say) without.
    fn dump_at_end(&self, deadline: Instant) -> ThreadDump {
        self.wait_for_threads(deadline);
        ThreadDump {
            threads: self.threads.at_end(),
            with_backtraces: true,
            running_frames: true,
            at_end: true,
        }
    }

    /// A guest thread's call returned `err` (on that thread, `slot`, before
    /// its state changes): if the end of the program stopped it, it leaves
    /// its state and the backtrace of its stop (the one Wasmtime captured
    /// for the trap, put into text only if a dump asks) for final dumps,
    /// and the error becomes a plain [`Stopped`]. Any other error is
    /// returned as it is.
    pub(crate) fn note_stop(&self, slot: &ThreadSlot, err: wasmtime::Error) -> wasmtime::Error {
        if !is_stop(&err, self.is_ended()) {
            return err;
        }
        self.threads
            .record_stop(slot, err.downcast::<WasmBacktrace>().ok());
        wasmtime::Error::new(Stopped)
    }
}
