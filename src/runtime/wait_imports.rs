//! The `weft:internal` imports that the rewritten `memory.atomic.wait32`,
//! `memory.atomic.wait64` and `memory.atomic.notify` call (see
//! `wait_rewrite`): they check the address as Wasmtime does and park in the
//! run's parking lot.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::{Caller, Linker, SharedMemory, Trap};

use crate::runtime::run::ThreadData;
use crate::runtime::wait_rewrite::{INTERNAL_MODULE, NOTIFY, WAIT32, WAIT64};
use crate::wasi::GuestMemory;

/// Defines the three `weft:internal` imports.
pub(crate) fn add_to_linker(linker: &mut Linker<ThreadData>) -> wasmtime::Result<()> {
    linker.func_wrap(
        INTERNAL_MODULE,
        WAIT32,
        |caller: Caller<'_, ThreadData>, addr: i32, expected: i32, timeout: i64, offset: i32| {
            let (memory, ea) = check(&caller, addr, offset, 4)?;
            let cell = atomic_u32(&memory, ea);
            let equal = || holds32(cell.load(Ordering::SeqCst), expected);
            wait(&caller, ea, equal, timeout)
        },
    )?;
    linker.func_wrap(
        INTERNAL_MODULE,
        WAIT64,
        |caller: Caller<'_, ThreadData>, addr: i32, expected: i64, timeout: i64, offset: i32| {
            let (memory, ea) = check(&caller, addr, offset, 8)?;
            let cell = atomic_u64(&memory, ea);
            let equal = || holds64(cell.load(Ordering::SeqCst), expected);
            wait(&caller, ea, equal, timeout)
        },
    )?;
    linker.func_wrap(
        INTERNAL_MODULE,
        NOTIFY,
        |caller: Caller<'_, ThreadData>, addr: i32, count: i32, offset: i32| {
            let (_memory, ea) = check(&caller, addr, offset, 4)?;
            let woken = caller.data().run.parking.notify(ea, count as u32);
            Ok(woken as i32)
        },
    )?;
    Ok(())
}

/// The effective address of an access of `size` bytes, trapping as Wasmtime
/// does on a misaligned or out-of-bounds address.
fn check(
    caller: &Caller<'_, ThreadData>,
    addr: i32,
    offset: i32,
    size: u64,
) -> wasmtime::Result<(SharedMemory, u64)> {
    caller.data().run.check_running()?;
    let Some(GuestMemory::Shared(memory)) = &caller.data().memory else {
        // Only modules importing a shared memory are rewritten.
        return Err(wasmtime::Error::new(Trap::AtomicWaitNonSharedMemory));
    };
    let ea = u64::from(addr as u32) + u64::from(offset as u32);
    if ea % size != 0 {
        return Err(wasmtime::Error::new(Trap::HeapMisaligned));
    }
    if ea + size > memory.data().len() as u64 {
        return Err(wasmtime::Error::new(Trap::MemoryOutOfBounds));
    }
    Ok((memory.clone(), ea))
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

fn wait(
    caller: &Caller<'_, ThreadData>,
    ea: u64,
    equal: impl FnOnce() -> bool,
    timeout: i64,
) -> wasmtime::Result<i32> {
    let timeout = u64::try_from(timeout).ok().map(Duration::from_nanos);
    let result = caller.data().run.parking.wait(ea, equal, timeout)?;
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
