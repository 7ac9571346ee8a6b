//! The data race detector (`Config::detect_races`): a happens-before
//! detector in the style of FastTrack (Flanagan & Freund, PLDI 2009).
//!
//! The load-time instrumentation (`program::race_instrument`) calls the
//! hooks defined here before every plain access, atomic and bulk memory
//! operation on the shared memory; the WASI layer reports the guest memory
//! its calls read and write (`wasi::memory::set_access_hook`), as accesses of
//! the calling thread. What orders two accesses:
//!
//! * program order within a thread;
//! * atomics: wasm atomics are sequentially consistent, so each one releases
//!   the clock of its address before it runs and (if it reads) acquires it
//!   after; `memory.atomic.wait` is a read-modify-write of its address,
//!   `notify` a release of it (`run::waits` calls [`release`]/[`acquire`]);
//!   `atomic.fence` releases and acquires one clock of its own;
//! * `thread-spawn`: everything the parent did before the spawn happens
//!   before the child's first instruction ([`fork`], [`bind_child`]).
//!
//! Each guest thread is bound to its OS thread while it runs wasm (a
//! thread-local, [`bind_main`]/[`bind_child`]/[`unbind`]), so the hooks
//! cost no lookup of the store. The state of one location is in `shadow`,
//! clocks in `clock`, reports in `report`; `fast` keeps the tags that let a
//! plain access the detector would learn nothing from skip its hook.
//!
//! Synchronisation variables: bytes an atomic has written are not checked
//! for races any more, and a plain access to them counts as an atomic one
//! (a plain write releases, a plain read acquires, after it has read). musl
//! (wasi-libc) synchronises through `volatile` reads of words other threads
//! write atomically (`pthread_join` reading `detach_state`, `__tl_lock`);
//! without this every join that finds its thread ended would look
//! unordered. The price: a race between a plain and an atomic access of
//! one word is not reported, nor one on memory that held such a word
//! before it was freed and reused.
//!
//! Index reuse: vector clocks have an entry per thread index, so once more
//! than [`REUSE_AFTER`] threads have ended the oldest ended thread's index
//! goes to the next new thread, whose clock starts after the old thread's
//! last event: the new thread then counts as ordered after everything the
//! old one did (a race between the two is missed, never invented).

mod clock;
mod fast;
mod hooks;
mod report;
mod shadow;

pub use report::{DataSymbol, RaceAccess, RaceReport};

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::ffi::CStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::program::race_instrument::fast_path::Layout;
use crate::runtime::program::race_instrument::{Kind, Site};
use crate::runtime::program::ProgramInner;
use crate::runtime::races::clock::{epoch, index_of, SyncClocks, VClock};
use crate::runtime::races::fast::{FastShadow, Tags};
use crate::runtime::races::shadow::{Accessor, Hit, Shadow, Tag};

pub(crate) use hooks::add_to_linker;

/// The TID of the main thread in reports (`run::main_thread::MAIN_TID`).
const MAIN_TID: u32 = 0;
/// Sites at and above this are WASI calls (their names interned).
const WASI_SITE: u32 = 0x8000_0000;
/// The sync clock of `atomic.fence`.
const FENCE: u64 = u64::MAX;
const SYNC_SHARDS: usize = 64;
/// Ended threads whose index is not reused yet: a race with one of the last
/// this many threads to end is still seen.
const REUSE_AFTER: usize = 256;

thread_local! {
    /// The guest thread the calling OS thread runs, while it runs wasm.
    static CURRENT: RefCell<Option<Bound>> = const { RefCell::new(None) };
}

/// A guest thread bound to its OS thread.
struct Bound {
    det: Arc<Detector>,
    me: ThreadClock,
}

/// One guest thread's detector state.
struct ThreadClock {
    index: u32,
    tid: u32,
    clock: VClock,
    /// The fast path's tag of the current epoch (`fast`), and the next.
    tag: u32,
    tags: Tags,
    /// The address of the atomic in flight (acquired after it).
    atomic: u64,
    /// A plain read of a synchronisation variable: its clock is acquired
    /// at the thread's next hook, after the read has happened.
    acquire_later: Option<u64>,
    /// The WASI call the thread is in, and its site once interned.
    wasi: Option<(&'static CStr, Option<u32>)>,
    /// Races found in a WASI call, reported as it returns (with frames).
    pending: Vec<Found>,
}

impl ThreadClock {
    fn accessor(&self, site: u32) -> Accessor<'_> {
        Accessor {
            index: self.index,
            now: epoch(self.index, self.clock.get(self.index)),
            clock: &self.clock,
            site,
        }
    }
}

/// A race found, before its report is made.
pub(crate) struct Found {
    hit: Hit,
    size: u64,
    write: bool,
    site: u32,
}

/// One run's detector.
pub(crate) struct Detector {
    program: Arc<ProgramInner>,
    shadow: Shadow,
    fast: FastShadow,
    syncs: [Mutex<SyncClocks>; SYNC_SHARDS],
    next_index: AtomicU32,
    /// Indices of ended threads and their last clock, oldest first.
    free: Mutex<VecDeque<(u32, u32)>>,
    /// Who held each index from which clock on: `(index, first clock, TID)`.
    holders: Mutex<Vec<(u32, u32, u32)>>,
    /// The main thread between reactor calls.
    main: Mutex<Option<ThreadClock>>,
    wasi_names: Mutex<Vec<&'static CStr>>,
    /// Site pairs reported already.
    seen: Mutex<HashSet<(u32, u32)>>,
    reports: Mutex<Vec<RaceReport>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Detector {
    /// The detector of a run of `program`, if it was instrumented.
    ///
    /// **Errors**: [`ErrorKind::Instantiate`] when its shadow memory cannot
    /// be made.
    pub(crate) fn new(program: &Arc<ProgramInner>) -> Result<Option<Arc<Detector>>> {
        if program.race_sites.is_none() {
            return Ok(None);
        }
        crate::wasi::set_access_hook(wasi_access);
        let max_pages = program
            .memory_import
            .as_ref()
            .and_then(|(_, _, ty)| ty.maximum())
            .unwrap_or(1 << 16);
        let layout = Layout::new(max_pages);
        let fast = FastShadow::new(program.engine.wasmtime(), layout).map_err(|e| {
            Error::wrap(
                ErrorKind::Instantiate,
                "cannot create the race detector's shadow memory",
                e,
            )
        })?;
        Ok(Some(Arc::new(Detector {
            program: program.clone(),
            shadow: Shadow::new(max_pages, layout.block_bytes()),
            fast,
            syncs: std::array::from_fn(|_| Mutex::new(SyncClocks::default())),
            next_index: AtomicU32::new(0),
            free: Mutex::new(VecDeque::new()),
            holders: Mutex::new(Vec::new()),
            main: Mutex::new(None),
            wasi_names: Mutex::new(Vec::new()),
            seen: Mutex::new(HashSet::new()),
            reports: Mutex::new(Vec::new()),
        })))
    }

    /// The memory the instrumented module imports as its fast shadow.
    pub(crate) fn fast_memory(&self) -> &wasmtime::SharedMemory {
        self.fast.memory()
    }

    /// The races found so far, in the order found.
    pub(crate) fn reports(&self) -> Vec<RaceReport> {
        lock(&self.reports).clone()
    }

    /// Bytes of shadow state (memory overhead).
    pub(crate) fn shadow_bytes(&self) -> usize {
        self.shadow.bytes()
    }

    /// A new thread's state: a free index or a new one, its clock after
    /// `inherited` and after the index's earlier holder.
    fn new_thread(&self, tid: u32, mut inherited: VClock) -> ThreadClock {
        let reused = {
            let mut free = lock(&self.free);
            match free.len() > REUSE_AFTER {
                true => free.pop_front(),
                false => None,
            }
        };
        let (index, first) = match reused {
            Some((index, last)) => (index, last.wrapping_add(1)),
            None => (self.next_index.fetch_add(1, Ordering::Relaxed), 1),
        };
        lock(&self.holders).push((index, first, tid));
        inherited.set(index, first);
        let mut tags = Tags::default();
        let tag = self.fast.new_tag(&mut tags);
        self.fast.set_thread(index, tag);
        ThreadClock {
            index,
            tid,
            clock: inherited,
            tag,
            tags,
            atomic: 0,
            acquire_later: None,
            wasi: None,
            pending: Vec::new(),
        }
    }

    fn shard(&self, addr: u64) -> &Mutex<SyncClocks> {
        &self.syncs[(addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize % SYNC_SHARDS]
    }

    /// The sync clock of an atomic at `addr`: one per 8 bytes, so atomics
    /// of different sizes on one word order each other.
    fn sync_key(addr: u64) -> u64 {
        if addr == FENCE {
            addr
        } else {
            addr & !7
        }
    }

    fn release(&self, me: &mut ThreadClock, addr: u64) {
        self.catch_up(me);
        let key = Detector::sync_key(addr);
        lock(self.shard(key))
            .entry(key)
            .or_default()
            .join(&me.clock);
        self.tick(me);
    }

    /// Moves `me` to its next epoch, with a new tag.
    fn tick(&self, me: &mut ThreadClock) {
        me.clock.tick(me.index);
        me.tag = self.fast.new_tag(&mut me.tags);
        self.fast.set_thread(me.index, me.tag);
    }

    fn acquire(&self, me: &mut ThreadClock, addr: u64) {
        if let Some(later) = me.acquire_later.take() {
            self.acquire(me, later);
        }
        let key = Detector::sync_key(addr);
        if let Some(sync) = lock(self.shard(key)).get(&key) {
            me.clock.join(sync);
        }
    }

    /// Acquires what a plain read of a synchronisation variable read.
    fn catch_up(&self, me: &mut ThreadClock) {
        if let Some(addr) = me.acquire_later.take() {
            self.acquire(me, addr);
        }
    }

    /// A plain access (or a WASI call's) of `size` bytes at `addr`.
    fn check(
        &self,
        me: &mut ThreadClock,
        addr: u64,
        size: u64,
        write: bool,
        site: u32,
    ) -> Option<Found> {
        let tag = me.tag;
        let held = |block, held| self.fast.set_block(block, tag, held);
        let (hit, sync) = self
            .shadow
            .access(addr, size, write, &me.accessor(site), held);
        if sync {
            // Bytes atomics write, accessed plainly (musl's `volatile`
            // flags, e.g. `pthread_join` reading `detach_state`): a plain
            // write releases, a plain read acquires.
            match write {
                true => self.release(me, addr),
                false => me.acquire_later = Some(addr),
            }
        }
        Some(Found {
            hit: hit?,
            size,
            write,
            site,
        })
    }

    /// Instrumented site `site` runs with operands `ops` (address first).
    fn at_site(&self, me: &mut ThreadClock, site: u32, ops: [u32; 3]) -> Option<Found> {
        self.catch_up(me);
        let s: Site = *self.program.race_sites.as_ref()?.sites.get(site as usize)?;
        let ea = u64::from(ops[0]) + u64::from(s.offset);
        let size = u64::from(s.size);
        match s.kind {
            Kind::Read => self.check(me, ea, size, false, site),
            Kind::Write => self.check(me, ea, size, true, site),
            Kind::AtomicLoad => {
                me.atomic = ea;
                None
            }
            Kind::AtomicStore => {
                self.mark_atomic(ea, size);
                self.release(me, ea);
                None
            }
            Kind::AtomicRmw => {
                self.mark_atomic(ea, size);
                self.release(me, ea);
                me.atomic = ea;
                None
            }
            Kind::Fill | Kind::Init => self.check(me, ea, u64::from(ops[2]), true, site),
            Kind::Copy { src, dst } => {
                let n = u64::from(ops[2]);
                let read = src
                    .then(|| self.check(me, u64::from(ops[1]), n, false, site))
                    .flatten();
                let written = dst.then(|| self.check(me, ea, n, true, site)).flatten();
                read.or(written)
            }
            Kind::Fence => {
                self.release(me, FENCE);
                self.acquire(me, FENCE);
                None
            }
        }
    }

    /// An atomic writes `size` bytes at `addr`: they become a
    /// synchronisation variable, which no thread holds.
    fn mark_atomic(&self, addr: u64, size: u64) {
        self.shadow
            .mark_atomic(addr, size, |block| self.fast.set_block(block, 0, Tag::None));
    }

    /// The site of WASI call `name`.
    fn wasi_site(&self, name: &'static CStr) -> u32 {
        let mut names = lock(&self.wasi_names);
        let i = match names.iter().position(|n| std::ptr::eq(*n, name)) {
            Some(i) => i,
            None => {
                names.push(name);
                names.len() - 1
            }
        };
        WASI_SITE + i as u32
    }

    /// The TID of the thread that held `index` at `clock`.
    fn tid_of(&self, index: u32, clock: u32) -> u32 {
        lock(&self.holders)
            .iter()
            .rev()
            .find(|&&(i, first, _)| i == index && first <= clock)
            .map_or(MAIN_TID, |&(_, _, tid)| tid)
    }

    /// Records `found` (by thread `tid`) as a report with `backtrace`,
    /// unless its pair of sites was reported already or is suppressed.
    fn report(&self, tid: u32, found: &Found, backtrace: impl FnOnce() -> String) {
        let prior = found.hit.prior;
        // Once per pair of places, whichever came first.
        let pair = (prior.site.min(found.site), prior.site.max(found.site));
        if !lock(&self.seen).insert(pair) {
            return;
        }
        let previous = report::RaceAccess {
            write: prior.write,
            tid: self.tid_of(index_of(prior.epoch), clock::clock_of(prior.epoch)),
            ..self.place(prior.site)
        };
        let current = report::RaceAccess {
            write: found.write,
            tid,
            ..self.place(found.site)
        };
        if let Some(s) = report::suppressed(&current, &previous) {
            log::debug!(
                "race suppressed ({}: {}): {current} / {previous}",
                s.name,
                s.why
            );
            return;
        }
        let r = RaceReport {
            address: found.hit.addr,
            size: found.size,
            current,
            previous,
            backtrace: backtrace(),
            symbol: self.symbol(found.hit.addr),
        };
        log::warn!("{r}");
        lock(&self.reports).push(r);
    }

    /// The variable at `addr`, from the module's DWARF (read at the first
    /// report).
    fn symbol(&self, addr: u64) -> Option<report::DataSymbol> {
        let sites = self.program.race_sites.as_ref()?;
        let (name, offset, size) = sites.symbols.lookup(addr)?;
        Some(report::DataSymbol {
            name: name.to_string(),
            offset,
            size,
        })
    }

    /// Where site `site` is.
    fn place(&self, site: u32) -> RaceAccess {
        let mut access = RaceAccess::default();
        if site >= WASI_SITE {
            let names = lock(&self.wasi_names);
            access.wasi_call = names
                .get((site - WASI_SITE) as usize)
                .map(|n| n.to_string_lossy().into_owned());
        } else if let Some(sites) = &self.program.race_sites {
            if let Some(s) = sites.sites.get(site as usize) {
                access.func_index = Some(s.func);
                access.func_name = sites.names.get(&s.func).cloned();
                access.offset = Some(s.at);
            }
        }
        access
    }
}

/// Binds the main thread of `det`'s run to the calling OS thread (it keeps
/// its clock between reactor calls).
pub(crate) fn bind_main(det: Option<&Arc<Detector>>) {
    let Some(det) = det else { return };
    let me = lock(&det.main)
        .take()
        .unwrap_or_else(|| det.new_thread(MAIN_TID, VClock::default()));
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Bound {
            det: det.clone(),
            me,
        })
    });
}

/// What a child thread starts from: the parent's clock at `thread-spawn`
/// (the parent then moves on to a new epoch). `None` without detection.
pub(crate) struct Inherited(Arc<Detector>, VClock);

/// Called by the parent in `thread-spawn`.
pub(crate) fn fork() -> Option<Inherited> {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        let bound = c.as_mut()?;
        bound.det.catch_up(&mut bound.me);
        let clock = bound.me.clock.clone();
        bound.det.tick(&mut bound.me);
        Some(Inherited(bound.det.clone(), clock))
    })
}

/// Binds spawned thread `tid` to the calling OS thread.
pub(crate) fn bind_child(inherited: Option<Inherited>, tid: u32) {
    let Some(Inherited(det, clock)) = inherited else {
        return;
    };
    let me = det.new_thread(tid, clock);
    CURRENT.with(|c| *c.borrow_mut() = Some(Bound { det, me }));
}

/// The calling OS thread stops running its guest thread: the main thread's
/// state is kept, a spawned thread's index is freed.
pub(crate) fn unbind() {
    let Some(Bound { det, me }) = CURRENT.with(|c| c.borrow_mut().take()) else {
        return;
    };
    if me.tid == MAIN_TID {
        *lock(&det.main) = Some(me);
    } else {
        lock(&det.free).push_back((me.index, me.clock.get(me.index)));
    }
}

/// The calling thread releases the clock of `addr` (before an atomic the
/// detector does not see as an instruction: `memory.atomic.wait`/`notify`).
pub(crate) fn release(addr: u64) {
    CURRENT.with(|c| {
        if let Some(Bound { det, me }) = c.borrow_mut().as_mut() {
            det.release(me, addr);
        }
    });
}

/// The calling thread acquires the clock of `addr` (after such an atomic).
pub(crate) fn acquire(addr: u64) {
    CURRENT.with(|c| {
        if let Some(Bound { det, me }) = c.borrow_mut().as_mut() {
            det.acquire(me, addr);
        }
    });
}

/// The calling thread enters WASI call `name`.
pub(crate) fn wasi_call_started(name: &'static CStr) {
    CURRENT.with(|c| {
        if let Some(Bound { me, .. }) = c.borrow_mut().as_mut() {
            me.wasi = Some((name, None));
        }
    });
}

/// The WASI call returns: races it made are reported with `backtrace`'s
/// frames (its call site).
pub(crate) fn wasi_call_finished(backtrace: impl Fn() -> String) {
    let found = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        let Bound { det, me } = c.as_mut()?;
        me.wasi = None;
        let pending = std::mem::take(&mut me.pending);
        (!pending.is_empty()).then(|| (det.clone(), me.tid, pending))
    });
    if let Some((det, tid, pending)) = found {
        for f in &pending {
            det.report(tid, f, &backtrace);
        }
    }
}

/// The WASI layer's hook: the calling thread's WASI call reads or writes
/// `len` guest bytes at `addr`.
fn wasi_access(addr: u32, len: usize, write: bool) {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        let Some(Bound { det, me }) = c.as_mut() else {
            return;
        };
        let Some((name, site)) = me.wasi else { return };
        let site = site.unwrap_or_else(|| det.wasi_site(name));
        det.catch_up(me);
        me.wasi = Some((name, Some(site)));
        if let Some(found) = det.check(me, u64::from(addr), len as u64, write, site) {
            me.pending.push(found);
        }
    });
}
