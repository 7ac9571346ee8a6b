//! Backtraces of rewritten modules, in the terms of the module the user
//! gave.
//!
//! weft may rewrite a module at load time (`defined_memory`, `wait_rewrite`):
//! three functions are imported, so every defined function's index grows by
//! three, and code offsets move (the import and type sections grow, each
//! rewritten `memory.atomic.wait` is a few bytes longer, instructions are
//! re-encoded with minimal LEB128 immediates). A [`FrameMap`] made during the
//! rewrite maps both back, and [`format`] prints Wasmtime's backtrace layout
//! with the original function indices and module offsets, so a trap shows
//! the same frames as the unrewritten module would.
//!
//! DWARF: a module's `.debug_*` sections describe the original code offsets.
//! Wasmtime's own file:line lookup (`WASMTIME_BACKTRACE_DETAILS=1`) runs on
//! the rewritten code, so for rewritten modules weft prints no file:line
//! rather than wrong ones; the original offsets it prints resolve against
//! the original `.wasm` with the usual tools (e.g. `llvm-symbolizer`,
//! `wasm-tools addr2line`).

use std::fmt::Write;

use wasmtime::WasmBacktrace;

/// Maps a rewritten module's function indices and code offsets back to the
/// module it was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FrameMap {
    /// Imported functions of the original module (their indices stay).
    pub(crate) func_imports: u32,
    /// Functions imported by the rewrite, before the defined ones.
    pub(crate) added_funcs: u32,
    /// `(rewritten offset, original offset)`, sorted: from each point on, up
    /// to the next, offsets differ by the same amount.
    pub(crate) points: Vec<(u32, u32)>,
}

impl FrameMap {
    /// The original index of rewritten function `index`.
    pub(crate) fn func_index(&self, index: u32) -> u32 {
        if index >= self.func_imports + self.added_funcs {
            index - self.added_funcs
        } else {
            index
        }
    }

    /// The original module offset of rewritten offset `at` (in code).
    pub(crate) fn offset(&self, at: u32) -> Option<u32> {
        let i = self.points.partition_point(|p| p.0 <= at);
        let (new, old) = *self.points.get(i.checked_sub(1)?)?;
        Some(old + (at - new))
    }

    /// Follows `later` (a map from a rewrite of the module this map's
    /// rewrite produced) and then this map.
    pub(crate) fn then(&self, later: &FrameMap) -> FrameMap {
        let points = later
            .points
            .iter()
            .filter_map(|&(new, mid)| Some((new, self.offset(mid)?)))
            .collect();
        // Both rewrites import their functions right after the original
        // imports, so the original ones keep their indices.
        FrameMap {
            func_imports: self.func_imports,
            added_funcs: later.added_funcs + self.added_funcs,
            points,
        }
    }
}

/// Body start offsets of every defined function, in order.
pub(crate) fn body_starts(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            out.push(body.range().start as u32);
        }
    }
    out
}

/// `bt` as Wasmtime prints it, with `map` applied (`None`: Wasmtime's own
/// text, file:line included).
pub(crate) fn format(bt: &WasmBacktrace, map: Option<&FrameMap>) -> String {
    let Some(map) = map else {
        return bt.to_string().trim_end().to_string();
    };
    let mut out = String::from("error while executing at wasm backtrace:");
    for (i, frame) in bt.frames().iter().enumerate() {
        let module = frame.module().name().unwrap_or("<unknown>");
        let _ = write!(out, "\n  {i:>3}: ");
        if let Some(at) = frame.module_offset() {
            let at = map.offset(at as u32).map_or(at, |o| o as usize);
            let _ = write!(out, "{at:#8x} - ");
        }
        let _ = write!(out, "{module}!");
        match frame.func_name() {
            Some(name) => demangle(&mut out, name),
            None => {
                let index = map.func_index(frame.func_index());
                let _ = write!(out, "<wasm function {index}>");
            }
        }
    }
    out
}

/// Writes `name` demangled (Rust or C++), as Wasmtime does.
fn demangle(out: &mut String, name: &str) {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        let _ = write!(out, "{d}");
    } else if let Some(d) = cpp_demangle::Symbol::new(name)
        .ok()
        .and_then(|s| s.demangle().ok())
    {
        out.push_str(&d);
    } else {
        out.push_str(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_indices_map_back() {
        let map = FrameMap {
            func_imports: 2,
            added_funcs: 3,
            points: vec![(100, 80), (120, 97), (200, 180)],
        };
        assert_eq!(map.offset(99), None);
        assert_eq!(map.offset(100), Some(80));
        assert_eq!(map.offset(119), Some(99));
        assert_eq!(map.offset(125), Some(102));
        assert_eq!(map.offset(250), Some(230));
        assert_eq!(map.func_index(1), 1);
        assert_eq!(map.func_index(5), 2);
        let first = FrameMap {
            func_imports: 2,
            added_funcs: 0,
            points: vec![(50, 40)],
        };
        let both = first.then(&map);
        assert_eq!(both.offset(100), Some(70));
        assert_eq!(both.added_funcs, 3);
        // Two rewrites that both import functions (waits, then the race
        // detector's hooks): original function 2 is 2 + 3 + 10 at the end.
        let hooks = FrameMap {
            func_imports: 5,
            added_funcs: 10,
            points: vec![(0, 0)],
        };
        let all = map.then(&hooks);
        assert_eq!((all.func_index(15), all.func_index(1)), (2, 1));
    }
}
