//! The C ABI: `extern "C"` functions, handle conversion, NULL checks, the
//! panic boundary and error objects. No logic lives here; each handle's
//! functions are in `src/ffi/<handle>.rs` and its logic in `src/runtime`.
//!
//! Imports flow one way: `boundary` (panics, arguments) knows nothing of
//! the others; [`handle`] (how C owns each handle) builds on it; [`error`]
//! (the error object, and `guard`, which runs a fallible export's body) on
//! both; every handle's file on all three.
//!
//! `tests/layout.rs` checks that no import circle forms here (nor anywhere
//! in `src/`). `include/weft.h` is generated from these files by cbindgen.

#![allow(non_camel_case_types)]
// Every export is `unsafe` only because C passes raw pointers; the contract
// (NULL or valid, lengths honest) is stated once in the header preamble.
#![allow(clippy::missing_safety_doc)]

mod boundary;
pub mod config;
pub mod engine;
pub mod error;
pub mod handle;
pub mod host_funcs;
pub mod idle_threads;
pub mod instance;
pub mod log;
pub mod module;
pub mod thread_list;
pub mod val;
pub mod version;
pub mod wasi_config;
