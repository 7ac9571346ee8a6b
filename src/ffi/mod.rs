//! The C ABI: `extern "C"` functions, handle conversion, NULL checks, the
//! panic boundary and error objects. No logic lives here; each handle's
//! functions are in `src/ffi/<handle>.rs` and its logic in `src/runtime`.
//!
//! `include/weft.h` is generated from these files by cbindgen.

#![allow(non_camel_case_types)]
// Every export is `unsafe` only because C passes raw pointers; the contract
// (NULL or valid, lengths honest) is stated once in the header preamble.
#![allow(clippy::missing_safety_doc)]

mod boundary;
pub mod config;
pub mod engine;
pub mod error;
pub mod host_funcs;
pub mod idle_threads;
pub mod instance;
pub mod log;
pub mod module;
pub mod thread_list;
pub mod val;
pub mod version;
pub mod wasi_config;
