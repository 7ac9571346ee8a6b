//! What a host holds to control and look at one run: waiting for the
//! outcome, interrupting, the outcome, statistics, data races, snapshots
//! and dumps.
//!
//! The runner's `Instance` and `weft::embed`'s `WasiThreadsCtx` both hold a
//! [`RunControls`]: what each control does is written here once, and each
//! handle keeps only thin public methods, because their doc comments (the
//! API each documents for its users) differ.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::error::{Error, Result};
use crate::runtime::observe::dump::ThreadDump;
use crate::runtime::observe::registry::DUMP_TIMEOUT;
use crate::runtime::races::RaceReport;
use crate::runtime::run::outcome::Outcome;
use crate::runtime::run::state::Run;
use crate::runtime::run::tids::Stats;

/// The controls of one run, for the handle the host holds.
pub(crate) struct RunControls<T> {
    run: Arc<Run<T>>,
}

impl<T> RunControls<T> {
    pub(crate) fn new(run: Arc<Run<T>>) -> RunControls<T> {
        RunControls { run }
    }

    /// The run itself.
    pub(crate) fn run(&self) -> &Arc<Run<T>> {
        &self.run
    }

    /// Waits up to `timeout` (`None`: until it ends) for the outcome, then up
    /// to `STOP_GRACE` for the threads to stop. `None`: still running.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Option<Outcome> {
        self.run.wait(timeout)
    }

    /// [`RunControls::wait`] without a timeout.
    pub(crate) fn wait_for_end(&self) -> Outcome {
        self.run
            .wait(None)
            .expect("waiting without a timeout returns an outcome")
    }

    /// Ends the program as [`Outcome::Interrupted`] unless it already ended,
    /// and stops every thread; returns at once.
    pub(crate) fn interrupt(&self) {
        self.run.decide_from_outside(Outcome::Interrupted);
    }

    /// The outcome, once the program has ended.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.run.outcome()
    }

    /// `Ok` while the program runs; otherwise the error describing how it
    /// ended (`proc_exit` included).
    pub(crate) fn ended_error(&self) -> Result<()> {
        match self.run.outcome() {
            None => Ok(()),
            Some(Outcome::Exit(code)) => Err(Error::exited(code)),
            Some(other) => other.into_result().map(drop),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        self.run.stats()
    }

    /// The data races found so far, in the order found (empty without the
    /// race detector).
    pub(crate) fn races(&self) -> Vec<RaceReport> {
        self.run
            .races
            .as_ref()
            .map_or_else(Vec::new, |d| d.reports())
    }

    /// Bytes of the race detector's shadow state so far (0 without it).
    pub(crate) fn race_shadow_bytes(&self) -> usize {
        self.run.races.as_ref().map_or(0, |d| d.shadow_bytes())
    }

    /// Every live thread now, without backtraces.
    pub(crate) fn threads(&self) -> ThreadDump {
        self.run.snapshot()
    }

    /// A thread dump, waiting at most [`DUMP_TIMEOUT`] for the answers.
    pub(crate) fn dump(&self) -> ThreadDump {
        self.dump_with_timeout(DUMP_TIMEOUT)
    }

    /// A thread dump, waiting at most `timeout` for the answers (after the
    /// end: for the threads to stop).
    pub(crate) fn dump_with_timeout(&self, timeout: Duration) -> ThreadDump {
        self.run.dump(timeout)
    }
}

impl<T> Deref for RunControls<T> {
    type Target = Run<T>;

    fn deref(&self) -> &Run<T> {
        &self.run
    }
}
