//! One analysis per module: [`add_to_linker`](crate::embed::add_to_linker)
//! reads the module's imports and exports ([`Analysis::of`]) to find the
//! shared memory it defines, and the [`WasiThreadsCtx`](crate::embed::WasiThreadsCtx)
//! created next for the same module takes that analysis instead of reading
//! them again.
//!
//! The two calls are separate in the API (as they were in
//! `wasmtime-wasi-threads`), so the analysis waits here in between, keyed by
//! the module ([`Module::same`]).

use std::collections::VecDeque;
use std::sync::Mutex;

use wasmtime::{MemoryType, Module};

use crate::runtime::program::analysis::Analysis;
use crate::runtime::Result;

/// Analyses made by `add_to_linker` whose context has not been created yet,
/// newest last.
static PENDING: Mutex<VecDeque<(Module, Analysis)>> = Mutex::new(VecDeque::new());

/// Most analyses kept waiting. An embedder that adds wasi-threads to a
/// linker and then never creates the context (an error in between) leaves
/// its entry, and so its module, here until newer ones push it out.
const MAX_PENDING: usize = 16;

/// Analyses `module` for `add_to_linker` and keeps the analysis for the
/// context created next for it ([`take`]). Returns the imported memory:
/// (module, name, type).
///
/// **Errors**: as [`Analysis::of`].
pub(crate) fn analyse(module: &Module) -> Result<Option<(String, String, MemoryType)>> {
    let analysis = Analysis::of(module)?;
    let memory_import = analysis.memory_import.clone();
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if pending.len() == MAX_PENDING {
        pending.pop_front();
    }
    pending.push_back((module.clone(), analysis));
    Ok(memory_import)
}

/// The analysis [`analyse`] made of `module`, or (for a module that was not
/// given to `add_to_linker`, or whose entry was pushed out) a new one.
///
/// **Errors**: as [`Analysis::of`].
pub(crate) fn take(module: &Module) -> Result<Analysis> {
    let waiting = {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        let found = pending.iter().rposition(|(m, _)| Module::same(m, module));
        found.and_then(|i| pending.remove(i))
    };
    match waiting {
        Some((_module, analysis)) => Ok(analysis),
        None => Analysis::of(module),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(module: &Module) -> usize {
        let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        pending
            .iter()
            .filter(|(m, _)| Module::same(m, module))
            .count()
    }

    #[test]
    fn the_context_takes_the_analysis_add_to_linker_made() {
        let engine =
            wasmtime::Engine::new(crate::embed::configure(&mut wasmtime::Config::new())).unwrap();
        let wat = r#"(module (import "env" "memory" (memory 1 1 shared)))"#;
        let module = Module::new(&engine, wat).unwrap();
        let memory = analyse(&module).unwrap().expect("a memory import");
        assert_eq!((memory.0.as_str(), memory.1.as_str()), ("env", "memory"));
        assert_eq!(waiting(&module), 1);
        assert!(take(&module).unwrap().memory_import.is_some());
        assert_eq!(waiting(&module), 0);
        // Without a waiting analysis the module is read again.
        assert!(take(&module).unwrap().memory_import.is_some());
        // Analyses nobody takes are pushed out.
        for _ in 0..MAX_PENDING + 3 {
            analyse(&module).unwrap();
        }
        assert!(waiting(&module) <= MAX_PENDING);
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|(m, _)| !Module::same(m, &module));
    }
}
