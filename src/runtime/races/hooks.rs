//! The `weft:internal` `race.*` imports the instrumented module calls
//! (`program::race_instrument`): each hands its operands back unchanged and
//! tells the detector about the access, through the calling thread's bound
//! state (`races::CURRENT`). A race found is reported here, where the
//! `Caller` gives the current access's backtrace.

use wasmtime::{Caller, Linker, WasmBacktrace, V128};

use crate::runtime::imports::{INTERNAL_MODULE, RACE_HOOKS};
use crate::runtime::observe::dump::backtrace_text;
use crate::runtime::program::race_instrument::fast_path::slot_offset;
use crate::runtime::races::{Bound, CURRENT};

/// Instrumented site `site` runs with operands `ops` (address first).
/// Returns the address of the calling thread's slot in the fast shadow
/// (`fast_path`; slot 0 when no thread is bound).
fn at_site<T>(caller: &Caller<'_, T>, site: i32, ops: [u32; 3]) -> i32 {
    let mut slot = 0;
    let found = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        let Bound { det, me } = c.as_mut()?;
        slot = slot_offset(me.index);
        let found = det.at_site(me, site as u32, ops)?;
        Some((det.clone(), me.tid, found))
    });
    if let Some((det, tid, found)) = found {
        det.report(tid, &found, || {
            backtrace_text(
                &WasmBacktrace::capture(caller),
                det.program.frame_map.as_ref(),
            )
        });
    }
    slot as i32
}

/// After an atomic that reads: acquire its address's clock.
fn after_atomic() {
    CURRENT.with(|c| {
        if let Some(Bound { det, me }) = c.borrow_mut().as_mut() {
            let addr = me.atomic;
            det.acquire(me, addr);
        }
    });
}

/// Defines the race hooks on `linker` (every one, also the `v128` hook a
/// module may not import).
pub(crate) fn add_to_linker<T: 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let [addr, i32_, i64_, i32x2, i64x2, acq32, acq64, fence, access, v128] = RACE_HOOKS;
    let m = INTERNAL_MODULE;
    linker.func_wrap(m, addr, |c: Caller<'_, T>, a: i32, site: i32| {
        at_site(&c, site, [a as u32, 0, 0]);
        a
    })?;
    linker.func_wrap(m, i32_, |c: Caller<'_, T>, a: i32, v: i32, site: i32| {
        at_site(&c, site, [a as u32, 0, 0]);
        (a, v)
    })?;
    linker.func_wrap(m, i64_, |c: Caller<'_, T>, a: i32, v: i64, site: i32| {
        at_site(&c, site, [a as u32, 0, 0]);
        (a, v)
    })?;
    linker.func_wrap(
        m,
        i32x2,
        |c: Caller<'_, T>, a: i32, x: i32, y: i32, site: i32| {
            at_site(&c, site, [a as u32, x as u32, y as u32]);
            (a, x, y)
        },
    )?;
    linker.func_wrap(
        m,
        i64x2,
        |c: Caller<'_, T>, a: i32, x: i64, y: i64, site: i32| {
            at_site(&c, site, [a as u32, 0, 0]);
            (a, x, y)
        },
    )?;
    linker.func_wrap(m, acq32, |v: i32, _site: i32| {
        after_atomic();
        v
    })?;
    linker.func_wrap(m, acq64, |v: i64, _site: i32| {
        after_atomic();
        v
    })?;
    linker.func_wrap(m, fence, |c: Caller<'_, T>, site: i32| {
        at_site(&c, site, [0, 0, 0]);
    })?;
    linker.func_wrap(m, access, |c: Caller<'_, T>, a: i32, site: i32| {
        at_site(&c, site, [a as u32, 0, 0])
    })?;
    linker.func_wrap(m, v128, |c: Caller<'_, T>, a: i32, v: V128, site: i32| {
        at_site(&c, site, [a as u32, 0, 0]);
        (a, v)
    })?;
    Ok(())
}
