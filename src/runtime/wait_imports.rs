//! The `weft:internal` imports that the rewritten `memory.atomic.wait32`,
//! `memory.atomic.wait64` and `memory.atomic.notify` call (see
//! `wait_rewrite`): they check the address as Wasmtime does and park in the
//! run's parking lot.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::{Caller, Linker, SharedMemory, Trap};

use crate::runtime::run::Run;
use crate::runtime::wait_rewrite::{INTERNAL_MODULE, NOTIFY, WAIT32, WAIT64};

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
            let run = run_of(caller.data_mut());
            let ea = check(run, &m, addr, offset, 4)?;
            let cell = atomic_u32(&m, ea);
            let equal = || cell.load(Ordering::SeqCst) == expected as u32;
            wait(run, ea, equal, timeout)
        },
    )?;
    let m = memory.clone();
    linker.func_wrap(
        INTERNAL_MODULE,
        WAIT64,
        move |mut caller: Caller<'_, T>, addr: i32, expected: i64, timeout: i64, offset: i32| {
            let run = run_of(caller.data_mut());
            let ea = check(run, &m, addr, offset, 8)?;
            let cell = atomic_u64(&m, ea);
            let equal = || cell.load(Ordering::SeqCst) == expected as u64;
            wait(run, ea, equal, timeout)
        },
    )?;
    linker.func_wrap(
        INTERNAL_MODULE,
        NOTIFY,
        move |mut caller: Caller<'_, T>, addr: i32, count: i32, offset: i32| {
            let run = run_of(caller.data_mut());
            let ea = check(run, &memory, addr, offset, 4)?;
            let woken = run.parking.notify(ea, count as u32);
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
    ea: u64,
    equal: impl FnOnce() -> bool,
    timeout: i64,
) -> wasmtime::Result<i32> {
    let timeout = u64::try_from(timeout).ok().map(Duration::from_nanos);
    let result = run.parking.wait(ea, equal, timeout)?;
    Ok(result as i32)
}
