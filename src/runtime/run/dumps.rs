//! The run's side of looking at its threads (`observe`): snapshots and
//! dumps of its live threads, and a deadlock (every live thread parked for
//! good) ending the run with a dump.

use std::time::Duration;

use crate::runtime::engine::Interruption;
use crate::runtime::observe::dump::ThreadDump;
use crate::runtime::observe::registry::DUMP_TIMEOUT;
use crate::runtime::observe::thread_state::ThreadSlot;
use crate::runtime::run::outcome::Outcome;
use crate::runtime::run::state::Run;

impl<T> Run<T> {
    /// Every live thread is parked for good: ends the program as a
    /// deadlock with a dump (`own` is the detecting thread's own backtrace).
    pub(crate) fn deadlocked(&self, own: Option<(&ThreadSlot, String)>) {
        if self.is_ended() {
            return;
        }
        let dump = self.dump(own, DUMP_TIMEOUT);
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
        }
    }

    /// A thread dump (see `registry`): nudges parked threads and ticks the
    /// epoch so every thread answers with its backtrace.
    pub(crate) fn dump(&self, own: Option<(&ThreadSlot, String)>, timeout: Duration) -> ThreadDump {
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
        }
    }
}
