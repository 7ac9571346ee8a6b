//! weft: run threaded WebAssembly guests (the wasi-threads proposal) on
//! Wasmtime, from Rust or through a C ABI (`include/weft.h`).
//!
//! Layers, top to bottom: [`ffi`] (C glue only) and [`embed`] (wasi-threads
//! on a Rust embedder's own `wasmtime::Linker<T>`), [`runtime`] (engine,
//! programs, the spawn context, running instances), [`wasi`] (a thread-safe
//! WASI preview 1 shared by every thread of a program).

pub mod embed;
pub mod ffi;
pub mod runtime;
pub mod wasi;
