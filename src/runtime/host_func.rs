//! Host functions defined by the embedder, present in every thread's instance.

use std::sync::Arc;

use wasmtime::{Val, ValType};

/// What a host function learns about its caller.
pub struct HostCall {
    /// The calling thread's TID (0 for the main thread).
    pub tid: u32,
    /// Base of the calling thread's linear memory (null if it has none).
    pub memory_base: *mut u8,
    /// Current size of that memory in bytes.
    pub memory_size: usize,
}

/// A host function's body. Called concurrently from every guest thread;
/// an `Err` traps the calling thread (and so ends the program).
pub type HostCallback =
    dyn Fn(&HostCall, &[Val], &mut [Val]) -> Result<(), String> + Send + Sync + 'static;

/// One host function: its import name, type and body.
#[derive(Clone)]
pub struct HostFunc {
    /// Import module name.
    pub module: String,
    /// Import field name.
    pub name: String,
    /// Parameter types (numeric types only).
    pub params: Vec<ValType>,
    /// Result types (numeric types only).
    pub results: Vec<ValType>,
    /// The body.
    pub callback: Arc<HostCallback>,
}

/// A set of host functions, given to each instance.
#[derive(Clone, Default)]
pub struct HostFuncs {
    pub(crate) funcs: Vec<HostFunc>,
}

impl HostFuncs {
    /// An empty set.
    pub fn new() -> HostFuncs {
        HostFuncs::default()
    }

    /// Adds `func`; a later definition of the same name replaces an earlier one.
    pub fn define(&mut self, func: HostFunc) {
        self.funcs
            .retain(|f| !(f.module == func.module && f.name == func.name));
        self.funcs.push(func);
    }

    /// Number of functions.
    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }
}
