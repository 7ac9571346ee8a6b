//! `proc_exit`: the error a guest thread unwinds with, so its program ends with the code.

use std::fmt;

/// The error a guest thread unwinds with when it calls `proc_exit(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcExit(pub i32);

impl fmt::Display for ProcExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guest called proc_exit({})", self.0)
    }
}

impl std::error::Error for ProcExit {}
