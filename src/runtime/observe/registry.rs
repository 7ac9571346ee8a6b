//! The live guest threads of one run: their published states (for
//! snapshots), the deadlock census, and thread dumps.
//!
//! A dump asks every thread for its wasm backtrace and waits (briefly) for
//! the answers. A backtrace can only be taken on the thread that owns the
//! store, so each thread answers itself, at the first point where it holds
//! its `Caller` or store: a thread parked in `atomic.wait` is nudged awake,
//! answers and parks again; a thread in a WASI call or host function answers
//! as the call returns (frames at its call site); running wasm answers at
//! its next epoch check (the dump increments the epoch), then continues
//! untouched, but only with `Config::precise_dumps`: weft's default stop
//! checks cannot answer, so running threads are then listed without frames
//! and not waited for. A thread that does not answer within the dump's
//! timeout is listed without frames. Once the program has ended, a dump
//! lists the threads the end stopped instead, with the frames of their
//! stops (`stopped`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use std::ffi::CStr;

use wasmtime::{AsContext, Caller, WasmBacktrace};

use crate::runtime::observe::census::Census;
use crate::runtime::observe::dump::backtrace_text;
use crate::runtime::observe::stopped::StoppedThreads;
use crate::runtime::observe::thread_state::{ThreadInfo, ThreadSlot, ThreadState};
use crate::runtime::program::frame_map::FrameMap;
use crate::runtime::program::ProgramInner;

/// How long a thread dump waits for running threads to answer by default.
pub const DUMP_TIMEOUT: Duration = Duration::from_millis(100);

thread_local! {
    /// The guest thread the calling OS thread runs now, and its registry:
    /// how WASI calls, host functions, waits and the epoch callback find the
    /// state to update, whatever the store data type.
    static CURRENT: RefCell<Option<(Arc<ThreadSlot>, Arc<ThreadRegistry>)>> =
        const { RefCell::new(None) };
}

/// The calling OS thread runs `slot`'s guest thread (named `name`) from now on.
pub(crate) fn bind(registry: &Arc<ThreadRegistry>, slot: &Arc<ThreadSlot>, name: Option<&str>) {
    slot.bind_current(name);
    CURRENT.with(|c| *c.borrow_mut() = Some((slot.clone(), registry.clone())));
}

/// The calling OS thread stops running its guest thread.
pub(crate) fn unbind() {
    if let Some((slot, _)) = CURRENT.with(|c| c.borrow_mut().take()) {
        slot.unbind();
    }
}

/// Runs `f` on the calling OS thread's guest thread state, if it runs one.
pub(crate) fn with_current(f: impl FnOnce(&ThreadSlot)) {
    CURRENT.with(|c| {
        if let Some((slot, _)) = c.borrow().as_ref() {
            f(slot);
        }
    });
}

/// Answers a pending thread-dump request with the calling thread's wasm
/// backtrace (from inside a host call or the epoch callback). One
/// thread-local read and one atomic load when there is none.
pub(crate) fn answer_dump(ctx: impl AsContext) {
    CURRENT.with(|c| {
        if let Some((slot, registry)) = c.borrow().as_ref() {
            registry.answer_pending(slot, ctx);
        }
    });
}

/// Whether WASI call `name` typically blocks for long: its frames are
/// recorded on entry so a dump shows them without waiting for the call to
/// return (`poll_oneoff`, `sock_accept`, `sock_recv`).
fn blocks_for_long(name: &CStr) -> bool {
    matches!(
        name.to_bytes(),
        b"poll_oneoff" | b"sock_accept" | b"sock_recv"
    )
}

/// The calling guest thread enters WASI function `name` (weft's WASI calls
/// this through `WasiView::call_started`): its state shows the call, and a
/// call that may block for long records its frames for dumps meanwhile (a
/// few microseconds, small next to a sleep). Nothing for a thread that is
/// not a guest thread of a run. Costs one thread-local read, two relaxed
/// stores and a read of the coarse clock (figures: `cargo bench --bench
/// observe -- --only wasi`).
pub(crate) fn wasi_call_started<T>(caller: &Caller<'_, T>, name: &'static CStr) {
    CURRENT.with(|c| {
        if let Some((slot, registry)) = c.borrow().as_ref() {
            slot.enter_wasi(name);
            if blocks_for_long(name) {
                let bt = backtrace_text(&WasmBacktrace::capture(caller), registry.frame_map());
                slot.set_call_site(Some(bt));
            }
        }
    });
}

/// The WASI call entered last returns: the thread is back to running wasm,
/// and answers a pending thread dump with the frames of its call site.
pub(crate) fn wasi_call_finished<T>(caller: &Caller<'_, T>) {
    CURRENT.with(|c| {
        if let Some((slot, registry)) = c.borrow().as_ref() {
            slot.clear_call_site();
            slot.running();
            registry.answer_pending(slot, caller);
        }
    });
}

/// The calling thread's own frames, if it is a guest thread inside a call.
pub(crate) fn current_slot() -> Option<Arc<ThreadSlot>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(s, _)| s.clone()))
}

/// The live threads of one run.
pub(crate) struct ThreadRegistry {
    slots: Mutex<Vec<Arc<ThreadSlot>>>,
    /// The program, for mapping frames back to the original module.
    program: Option<Arc<ProgramInner>>,
    /// The main thread's slot (registered from the start).
    pub(crate) main: Arc<ThreadSlot>,
    pub(crate) census: Census,
    /// `module.name` of each embedder host function, by index.
    host_names: OnceLock<Vec<String>>,
    /// Incremented by every dump request.
    dump_gen: AtomicU64,
    /// Backtraces answered, by TID: (request generation, frames).
    answers: Mutex<HashMap<u32, (u64, String)>>,
    answered: Condvar,
    /// The threads the end stopped, with the frames of their stops.
    stopped: StoppedThreads,
}

impl ThreadRegistry {
    /// A registry holding the main thread (TID 0, idle, live).
    pub(crate) fn new(program: Option<Arc<ProgramInner>>) -> ThreadRegistry {
        let main = Arc::new(ThreadSlot::new(0, true));
        let registry = ThreadRegistry {
            slots: Mutex::new(Vec::new()),
            program,
            main: main.clone(),
            census: Census::default(),
            host_names: OnceLock::new(),
            dump_gen: AtomicU64::new(0),
            answers: Mutex::new(HashMap::new()),
            answered: Condvar::new(),
            stopped: StoppedThreads::default(),
        };
        registry.register(main);
        registry
    }

    /// Registers a new spawned thread `tid` (starting) and returns its slot.
    pub(crate) fn register_new(&self, tid: u32) -> Arc<ThreadSlot> {
        let slot = Arc::new(ThreadSlot::new(tid, false));
        self.register(slot.clone());
        slot
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Arc<ThreadSlot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn answers(&self) -> MutexGuard<'_, HashMap<u32, (u64, String)>> {
        self.answers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a live thread (counted by the census from now on).
    pub(crate) fn register(&self, slot: Arc<ThreadSlot>) {
        self.census.thread_started();
        slot.answered
            .store(self.dump_gen.load(Ordering::Acquire), Ordering::Relaxed);
        self.slots().push(slot);
    }

    /// Removes thread `tid`. Returns whether every remaining thread is now
    /// parked for good (a deadlock).
    pub(crate) fn deregister(&self, tid: u32) -> bool {
        {
            let mut slots = self.slots();
            if let Some(i) = slots.iter().position(|s| s.tid == tid) {
                slots.swap_remove(i);
            }
        }
        // Its answer stays until the next dump: a dump in progress may still
        // want it (a thread can answer and end at once).
        self.census.thread_ended()
    }

    /// Records the embedder host functions' names (once, when linking).
    pub(crate) fn set_host_names(&self, names: Vec<String>) {
        let _ = self.host_names.set(names);
    }

    fn host_names(&self) -> &[String] {
        self.host_names.get().map_or(&[], Vec::as_slice)
    }

    /// Every live thread as it is now, by TID.
    pub(crate) fn snapshot(&self) -> Vec<ThreadInfo> {
        let slots: Vec<Arc<ThreadSlot>> = self.slots().clone();
        let names = self.host_names();
        let mut out: Vec<ThreadInfo> = slots.iter().map(|s| s.snapshot(names)).collect();
        out.sort_by_key(|t| t.tid);
        out
    }

    /// `slot`'s thread (the caller), stopped by the end of the program,
    /// leaves its state (as the end found it) and the backtrace of its stop
    /// for final dumps.
    pub(crate) fn record_stop(&self, slot: &ThreadSlot, backtrace: Option<WasmBacktrace>) {
        self.stopped
            .record(slot.snapshot(self.host_names()), backtrace);
    }

    /// Every thread at the end of the program: those the end stopped, with
    /// the frames of their stops, and the live ones that did not stop (yet).
    pub(crate) fn at_end(&self) -> Vec<ThreadInfo> {
        self.stopped
            .with_live(self.snapshot(), |bt| backtrace_text(bt, self.frame_map()))
    }

    /// The dump request `slot`'s thread has not answered yet, if any. Cheap:
    /// one load of a rarely written counter.
    pub(crate) fn pending(&self, slot: &ThreadSlot) -> Option<u64> {
        let gen = self.dump_gen.load(Ordering::Acquire);
        (gen > slot.answered.load(Ordering::Relaxed)).then_some(gen)
    }

    /// The frame map of the run's program (original function indices).
    fn frame_map(&self) -> Option<&FrameMap> {
        self.program.as_ref().and_then(|p| p.frame_map.as_ref())
    }

    /// `slot`'s thread (the caller, which owns `ctx`) answers the dump
    /// request it has not answered yet, if any, with its backtrace.
    fn answer_pending(&self, slot: &ThreadSlot, ctx: impl AsContext) {
        if let Some(gen) = self.pending(slot) {
            let frames = backtrace_text(&WasmBacktrace::capture(ctx), self.frame_map());
            self.answer(slot, gen, frames);
        }
    }

    /// `slot`'s thread answers request `gen` with its backtrace.
    pub(crate) fn answer(&self, slot: &ThreadSlot, gen: u64, frames: String) {
        slot.answered.store(gen, Ordering::Relaxed);
        self.answers().insert(slot.tid, (gen, frames));
        self.answered.notify_all();
    }

    /// A thread dump: every live thread's state and backtrace. `wake` makes
    /// the threads look (nudges the parked, ticks the epoch), and is called
    /// again while answers are missing (see below); `running_answer` says
    /// whether running wasm answers at all (only at
    /// epoch checks: without them running and starting threads are not
    /// waited for); `own` is the calling guest thread's own answer, when a
    /// guest thread dumps (the deadlock detector). Threads that do not answer
    /// within `timeout` get no frames.
    ///
    /// One call of `wake` is not always enough. A thread between two states
    /// when it comes is not reached by it: one that has published its park
    /// but is not queued in the parking lot yet, or one that has entered a
    /// blocking WASI call but not yet recorded its call site. And a thread
    /// still inside its epoch callback (answering the previous dump) when
    /// the tick comes moves its deadline one tick past it, as Wasmtime reads
    /// the epoch after the callback returns. So the wait wakes again, and
    /// looks for call sites again, after 250 µs, 500 µs, ... (at most every
    /// 20 ms) while answers are missing.
    pub(crate) fn dump(
        &self,
        wake: impl Fn(),
        running_answer: bool,
        own: Option<(&ThreadSlot, String)>,
        timeout: Duration,
    ) -> Vec<ThreadInfo> {
        let gen = self.dump_gen.fetch_add(1, Ordering::AcqRel) + 1;
        let slots: Vec<Arc<ThreadSlot>> = self.slots().clone();
        let names = self.host_names();
        let mut threads: Vec<ThreadInfo> = slots.iter().map(|s| s.snapshot(names)).collect();
        threads.sort_by_key(|t| t.tid);
        self.answers()
            .retain(|tid, _| threads.iter().any(|t| t.tid == *tid));
        if let Some((slot, frames)) = own {
            self.answer(slot, gen, frames);
        }
        // Threads in a blocking WASI call left their frames on the way in.
        let call_sites = |answers: &mut HashMap<u32, (u64, String)>| {
            for slot in &slots {
                if answers.get(&slot.tid).is_none_or(|a| a.0 < gen) {
                    if let Some(frames) = slot.call_site() {
                        answers.insert(slot.tid, (gen, frames));
                    }
                }
            }
        };
        call_sites(&mut self.answers());
        wake();
        let deadline = Instant::now() + timeout;
        // Threads with no wasm stack to show are not waited for.
        let expects = |t: &ThreadInfo| match t.state {
            ThreadState::Idle | ThreadState::Ending => false,
            ThreadState::Running | ThreadState::Starting => running_answer,
            _ => true,
        };
        let unanswered = |t: &ThreadInfo, answers: &HashMap<u32, (u64, String)>| {
            answers.get(&t.tid).is_none_or(|a| a.0 < gen)
        };
        let mut answers = self.answers();
        let mut interval = Duration::from_micros(250);
        let mut next_tick = Instant::now() + interval;
        loop {
            let missing = threads
                .iter()
                .any(|t| expects(t) && unanswered(t, &answers));
            let now = Instant::now();
            if !missing || now >= deadline {
                break;
            }
            if now >= next_tick {
                // A thread still unanswered may have moved on since the
                // first look (its wait ended and it went back to wasm code,
                // or it ended): it is shown as it is now, and waited for
                // only if that state answers.
                for t in threads.iter_mut().filter(|t| unanswered(t, &answers)) {
                    if let Some(slot) = slots.iter().find(|s| s.tid == t.tid) {
                        *t = slot.snapshot(names);
                    }
                }
                drop(answers);
                wake();
                answers = self.answers();
                call_sites(&mut answers);
                interval = (interval * 2).min(Duration::from_millis(20));
                next_tick = now + interval;
                continue;
            }
            answers = self
                .answered
                .wait_timeout(answers, deadline.min(next_tick) - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        for t in &mut threads {
            t.backtrace = answers
                .get(&t.tid)
                .filter(|a| a.0 >= gen)
                .map(|a| a.1.clone());
        }
        threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn a_call_site_recorded_after_the_dump_started_is_still_found() {
        // The thread has published its WASI call, but records its frames
        // only after the dump has first looked.
        let registry = Arc::new(ThreadRegistry::new(None));
        let slot = registry.register_new(1);
        slot.enter_wasi(c"poll_oneoff");
        let s = slot.clone();
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            s.set_call_site(Some("0: sleep".into()));
        });
        let threads = registry.dump(|| {}, false, None, Duration::from_secs(10));
        late.join().unwrap();
        let t = threads.iter().find(|t| t.tid == 1).unwrap();
        assert_eq!(t.backtrace.as_deref(), Some("0: sleep"));
    }

    #[test]
    fn a_thread_that_went_back_to_wasm_code_is_not_waited_for() {
        // Parked at the first look, then woken by its notify before any
        // nudge reached it: without precise dumps, running wasm code cannot
        // answer, so the dump shows it running instead of waiting it out.
        let registry = Arc::new(ThreadRegistry::new(None));
        let slot = registry.register_new(1);
        slot.enter_park(64, false);
        let woke = std::sync::Once::new();
        let started = Instant::now();
        let threads = registry.dump(
            || woke.call_once(|| slot.running()),
            false,
            None,
            Duration::from_secs(10),
        );
        let took = started.elapsed();
        let t = threads.iter().find(|t| t.tid == 1).unwrap();
        assert_eq!(t.state, ThreadState::Running);
        assert_eq!(t.backtrace, None);
        // Not the 10 s timeout (a tick is at most 20 ms).
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn a_parked_thread_the_first_wake_misses_is_woken_again() {
        // The thread has published its park but is not queued yet when the
        // first wake comes; it answers a later one.
        let registry = Arc::new(ThreadRegistry::new(None));
        let slot = registry.register_new(1);
        slot.enter_park(64, true);
        let wakes = AtomicU32::new(0);
        let threads = registry.dump(
            || {
                if wakes.fetch_add(1, Ordering::SeqCst) > 0 {
                    if let Some(gen) = registry.pending(&slot) {
                        registry.answer(&slot, gen, "0: park".into());
                    }
                }
            },
            false,
            None,
            Duration::from_secs(10),
        );
        let t = threads.iter().find(|t| t.tid == 1).unwrap();
        assert_eq!(t.backtrace.as_deref(), Some("0: park"));
    }
}
