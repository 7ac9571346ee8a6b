//! The `weft:internal` imports that the rewritten `memory.atomic.wait32`,
//! `memory.atomic.wait64` and `memory.atomic.notify` call (see
//! `program::wait_rewrite`): they check the address as Wasmtime does and
//! park in the run's parking lot (`parking_lot`, its waiters in `waiter`).

pub(crate) mod parking_lot;
mod waiter;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::{Caller, Linker, SharedMemory, Trap, WasmBacktrace};

use crate::runtime::imports::{INTERNAL_MODULE, NOTIFY, WAIT32, WAIT64};
use crate::runtime::observe::dump::backtrace_text;
use crate::runtime::observe::registry;
use crate::runtime::observe::thread_state::ThreadSlot;
use crate::runtime::races;
use crate::runtime::run::state::Run;

/// Defines the three `weft:internal` imports on `linker`, for the program
/// whose shared memory is `memory`; `run_of` finds the program's run in a
/// thread's store data (the runner's and an embedder's alike).
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    memory: SharedMemory,
    run_of: impl Fn(&mut T) -> &Run<T> + Send + Sync + Copy + 'static,
) -> wasmtime::Result<()> {
    let m = memory.clone();
    linker.func_wrap(
        INTERNAL_MODULE,
        WAIT32,
        move |mut caller: Caller<'_, T>, addr: i32, expected: i32, timeout: i64, offset: i32| {
            let run: *const Run<T> = run_of(caller.data_mut());
            // SAFETY: the run lives behind an `Arc` in the store data, which
            // outlives this call and is never mutated through it; the
            // pointer only frees `caller` for taking backtraces.
            let run = unsafe { &*run };
            let ea = check(run, &m, addr, offset, 4)?;
            let cell = atomic_u32(&m, ea);
            let equal = || holds32(cell.load(Ordering::SeqCst), expected);
            wait(run, &caller, ea, equal, timeout)
        },
    )?;
    let m = memory.clone();
    linker.func_wrap(
        INTERNAL_MODULE,
        WAIT64,
        move |mut caller: Caller<'_, T>, addr: i32, expected: i64, timeout: i64, offset: i32| {
            let run: *const Run<T> = run_of(caller.data_mut());
            // SAFETY: as in wait32.
            let run = unsafe { &*run };
            let ea = check(run, &m, addr, offset, 8)?;
            let cell = atomic_u64(&m, ea);
            let equal = || holds64(cell.load(Ordering::SeqCst), expected);
            wait(run, &caller, ea, equal, timeout)
        },
    )?;
    linker.func_wrap(
        INTERNAL_MODULE,
        NOTIFY,
        move |mut caller: Caller<'_, T>, addr: i32, count: i32, offset: i32| {
            let run = run_of(caller.data_mut());
            let ea = check(run, &memory, addr, offset, 4)?;
            if run.races.is_some() {
                races::release(ea);
            }
            let woken = run.parking.notify(ea, count as u32, &run.threads.census);
            Ok(woken as i32)
        },
    )?;
    Ok(())
}

/// The effective address of an access of `size` bytes, trapping as Wasmtime
/// does on a misaligned or out-of-bounds address (and as stopped once the
/// program has ended).
fn check<T>(
    run: &Run<T>,
    memory: &SharedMemory,
    addr: i32,
    offset: i32,
    size: u64,
) -> wasmtime::Result<u64> {
    run.check_running()?;
    let ea = u64::from(addr as u32) + u64::from(offset as u32);
    if ea % size != 0 {
        return Err(wasmtime::Error::new(Trap::HeapMisaligned));
    }
    if ea + size > memory.data().len() as u64 {
        return Err(wasmtime::Error::new(Trap::MemoryOutOfBounds));
    }
    Ok(ea)
}

/// Whether a cell loaded natively holds the wasm value `expected`. Wasm
/// memory is little-endian, so the load is read as `from_le`: a big-endian
/// host compares the value the guest stored, as Wasmtime does.
fn holds32(loaded: u32, expected: i32) -> bool {
    u32::from_le(loaded) == expected as u32
}

/// [`holds32`] for `memory.atomic.wait64`.
fn holds64(loaded: u64, expected: i64) -> bool {
    u64::from_le(loaded) == expected as u64
}

/// The 4 bytes at `ea`, which [`check`] found aligned and in bounds.
fn atomic_u32(memory: &SharedMemory, ea: u64) -> &AtomicU32 {
    let cell = &memory.data()[ea as usize];
    // SAFETY: `ea` is 4-aligned and `ea + 4` is within the memory, which
    // never shrinks or moves while `memory` is alive; wasm accesses these
    // bytes only atomically or racily, as with any shared memory.
    unsafe { &*(cell.get() as *const AtomicU32) }
}

/// The 8 bytes at `ea`, which [`check`] found aligned and in bounds.
fn atomic_u64(memory: &SharedMemory, ea: u64) -> &AtomicU64 {
    let cell = &memory.data()[ea as usize];
    // SAFETY: as in `atomic_u32`, with 8-byte alignment and size.
    unsafe { &*(cell.get() as *const AtomicU64) }
}

fn wait<T>(
    run: &Run<T>,
    caller: &Caller<'_, T>,
    ea: u64,
    equal: impl FnOnce() -> bool,
    timeout: i64,
) -> wasmtime::Result<i32> {
    let timeout = u64::try_from(timeout).ok().map(Duration::from_nanos);
    // A wait reads its address atomically: a read-modify-write for the
    // race detector.
    let detect = run.races.is_some();
    if detect {
        races::release(ea);
    }
    registry::with_current(|slot| slot.enter_park(ea, timeout.is_some()));
    let result = run
        .parking
        .wait(ea, equal, timeout, &run.threads.census, |deadlocked| {
            if deadlocked {
                // Every other thread sleeps for good: this one dumps them.
                let own = backtrace_text(
                    &WasmBacktrace::capture(caller),
                    run.program.frame_map.as_ref(),
                );
                match registry::current_slot() {
                    Some(slot) => run.deadlocked(Some((&slot, own))),
                    None => run.deadlocked(None),
                }
            } else {
                registry::answer_dump(caller);
            }
        });
    // A wait the end interrupted leaves the state as the end found it
    // (parked), for final dumps.
    let result = result?;
    registry::with_current(ThreadSlot::running);
    if detect {
        races::acquire(ea);
    }
    Ok(result as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_values_compare_in_little_endian_on_every_host() {
        // The bytes a guest's `i32.store 1` leaves in memory.
        let cell = AtomicU32::new(u32::from_ne_bytes([1, 0, 0, 0]));
        assert!(holds32(cell.load(Ordering::SeqCst), 1));
        assert!(!holds32(cell.load(Ordering::SeqCst), 0x0100_0000));
        let cell = AtomicU64::new(u64::from_ne_bytes([2, 0, 0, 0, 0, 0, 0, 1]));
        assert!(holds64(cell.load(Ordering::SeqCst), 0x0100_0000_0000_0002));
    }
}
