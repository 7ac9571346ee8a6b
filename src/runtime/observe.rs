//! Looking at threads: what each guest thread of a run is doing (its
//! published state), the census that detects deadlocks, the registry of a
//! run's live threads, the threads the end stopped, and thread dumps.

pub(crate) mod census;
pub(crate) mod dump;
pub(crate) mod registry;
pub(crate) mod stopped;
pub(crate) mod thread_state;
