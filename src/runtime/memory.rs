//! The shared memory of a program: [`create_memory`] makes it with weft's
//! cap on its size, and [`advise`] asks for transparent huge pages for it.
//!
//! # Huge pages
//!
//! A program's shared memory is one mapping that Wasmtime reserves up front
//! ([`RESERVATION`] bytes, which weft's engines set) and makes accessible as
//! the guest grows it. Backed by 4 KiB pages, a guest that works through a
//! large array takes a page fault every 4 KiB and a TLB miss soon after;
//! `madvise(MADV_HUGEPAGE)` over the whole reservation lets the kernel back
//! every 2 MiB-aligned stretch that is wholly accessible with one huge page
//! instead (when the system's THP mode is `always` or `madvise`; with `never`
//! the advice has no effect). Parts below 2 MiB, and memories that never grow
//! that far, keep small pages.
//!
//! The advice only ever covers the memory's own reservation: from its base to
//! the smaller of its maximum size and [`RESERVATION`], all inside the mapping
//! Wasmtime made for it (Wasmtime maps at least the reservation from the base,
//! plus guard pages). Memories of engines weft did not configure
//! (`weft::embed`) are never advised. The advice is a hint: a kernel without
//! THP refuses it, and the memory then works as before.

use wasmtime::{MemoryType, SharedMemory};

use crate::runtime::error::{Error, ErrorKind, Result};

/// A shared memory for import `module` `name` of type `ty`, its maximum
/// lowered to `max_memory` bytes (`memory.grow` past it returns -1).
pub(crate) fn create_memory(
    engine: &wasmtime::Engine,
    max_memory: Option<u64>,
    module: &str,
    name: &str,
    ty: &MemoryType,
) -> Result<SharedMemory> {
    let page = ty.page_size();
    let min = ty.minimum();
    let declared_max = ty.maximum().unwrap_or(u64::from(u32::MAX) + 1);
    let cap_pages = max_memory.map_or(u64::MAX, |bytes| bytes / page);
    if min > cap_pages {
        return Err(Error::new(
            ErrorKind::Link,
            format!(
                "memory \"{module}\" \"{name}\" needs at least {} bytes, above the {} byte cap",
                min * page,
                max_memory.unwrap_or(0)
            ),
        ));
    }
    let max = declared_max.min(cap_pages);
    let (min, max) = (
        u32::try_from(min).map_err(|_| Error::new(ErrorKind::Link, "memory too large"))?,
        u32::try_from(max).unwrap_or(u32::MAX),
    );
    SharedMemory::new(engine, MemoryType::shared(min, max)).map_err(|e| {
        Error::wrap(
            ErrorKind::Link,
            &format!("cannot create shared memory \"{module}\" \"{name}\""),
            e,
        )
    })
}

/// Bytes Wasmtime reserves for every linear memory of a weft engine
/// (Wasmtime's own default on 64-bit hosts, set explicitly because the
/// advice's range relies on it): the whole 32-bit address space.
pub(crate) const RESERVATION: u64 = 1 << 32;

/// Advises the kernel to back `memory` with huge pages where it can.
pub(crate) fn advise(memory: &SharedMemory) {
    let ty = memory.ty();
    let max = ty
        .maximum()
        .unwrap_or(u64::MAX)
        .saturating_mul(ty.page_size())
        .min(RESERVATION);
    let base = memory.data().as_ptr();
    advise_range(base.cast_mut().cast(), max as usize);
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn advise_range(base: *mut libc::c_void, len: usize) {
    // SAFETY: `base..base + len` lies inside the memory's own reservation
    // (module docs); MADV_HUGEPAGE changes no contents, only how the kernel
    // backs the pages. An error (no THP in this kernel) leaves the mapping
    // as it was.
    unsafe {
        libc::madvise(base, len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn advise_range(_base: *mut libc::c_void, _len: usize) {}

#[cfg(all(test, target_os = "linux", target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// The `VmFlags` of every mapping that overlaps `lo..hi`, from
    /// `/proc/self/smaps`, with each mapping's range.
    fn flags_between(lo: usize, hi: usize) -> Vec<(usize, usize, String)> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut out = Vec::new();
        let mut range = None;
        for line in smaps.lines() {
            if let Some(flags) = line.strip_prefix("VmFlags:") {
                if let Some((a, b)) = range.take() {
                    if a < hi && b > lo {
                        out.push((a, b, flags.trim().to_string()));
                    }
                }
            } else if let Some((a, rest)) = line.split_once('-') {
                let b = rest.split_whitespace().next().unwrap_or("");
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    range = Some((a, b));
                }
            }
        }
        out
    }

    fn advised(flags: &str) -> bool {
        flags.split_whitespace().any(|f| f == "hg")
    }

    /// A shared memory of `max` pages from an engine set up as weft's are.
    fn memory(max: u32) -> SharedMemory {
        let mut c = wasmtime::Config::new();
        c.wasm_threads(true)
            .shared_memory(true)
            .memory_reservation(RESERVATION);
        let engine = wasmtime::Engine::new(&c).unwrap();
        SharedMemory::new(&engine, wasmtime::MemoryType::shared(1, max)).unwrap()
    }

    #[test]
    fn advice_covers_the_reservation_and_nothing_around_it() {
        let m = memory(65536);
        let base = m.data().as_ptr() as usize;
        let end = base + RESERVATION as usize;
        advise(&m);
        let around = flags_between(base - (64 << 20), end + (64 << 20));
        assert!(!around.is_empty());
        for (a, b, flags) in &around {
            let inside = *a >= base && *b <= end;
            assert_eq!(
                advised(flags),
                inside,
                "{a:x}-{b:x} ({flags}) against the memory {base:x}-{end:x}"
            );
        }
        // Every byte of the reservation carries the advice.
        let covered: usize = around
            .iter()
            .filter(|(_, _, f)| advised(f))
            .map(|(a, b, _)| b - a)
            .sum();
        assert_eq!(covered, RESERVATION as usize);
        // It survives growth: the grown part is advised too.
        m.grow(64).unwrap();
        let grown = flags_between(base, base + (65 << 16));
        assert!(grown.iter().all(|(_, _, f)| advised(f)), "{grown:?}");
    }

    #[test]
    fn a_small_maximum_is_advised_up_to_it() {
        let m = memory(64);
        let base = m.data().as_ptr() as usize;
        advise(&m);
        let max = base + (64 << 16);
        for (a, b, flags) in flags_between(base - (64 << 20), base + RESERVATION as usize) {
            assert_eq!(
                advised(&flags),
                a >= base && b <= max,
                "{a:x}-{b:x} ({flags})"
            );
        }
    }
}
