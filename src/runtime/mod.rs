//! The safe Rust core: engines, programs, the spawn context and running
//! instances. Nothing here knows about C.
//!
//! ```no_run
//! use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program};
//! use weft::wasi::WasiConfig;
//!
//! let engine = Engine::new(&Config::default())?;
//! let program = Program::from_file(&engine, "guest.wasm")?;
//! let instance = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new())?;
//! match instance.run()? {
//!     Outcome::Exit(code) => println!("exit {code}"),
//!     other => println!("ended: {other:?}"),
//! }
//! # Ok::<(), weft::runtime::Error>(())
//! ```

mod backtrace;
mod cache;
mod census;
mod compile_pool;
mod config;
mod defined_memory;
mod dump;
mod engine;
mod error;
mod host_func;
mod huge_pages;
mod instance;
mod linker;
mod outcome;
mod parking_lot;
mod program;
pub(crate) mod registry;
mod run;
mod sigpipe;
mod stop_checks;
mod thread_data;
mod thread_pool;
mod thread_state;
pub(crate) mod threads;
mod tids;
pub(crate) mod wait_imports;
pub(crate) mod wait_rewrite;

pub use compile_pool::release_idle_threads;
pub use config::{Config, Profiler, DEFAULT_MAX_THREADS, DEFAULT_OS_STACK, DEFAULT_WASM_STACK};
pub use dump::ThreadDump;
pub use engine::Engine;
pub use error::{Error, ErrorKind, Result, TrapInfo};
pub use host_func::{HostCall, HostCallback, HostFunc, HostFuncs};
pub use instance::Instance;
pub use outcome::Outcome;
pub use program::{Program, ENTRY_NAME, SPAWN_MODULE, SPAWN_NAME};
pub use registry::DUMP_TIMEOUT;
pub(crate) use run::{create_memory, Run};
pub use run::{Stats, MAIN_TID, STOP_GRACE};
pub use thread_data::ThreadData;
pub use thread_pool::{IDLE_TIMEOUT, MAX_IDLE_THREADS};
pub use thread_state::{ThreadInfo, ThreadState};
pub use threads::SPAWN_FAILED;
pub use tids::MAX_TID;
pub use wait_rewrite::INTERNAL_MODULE;
pub use wasmtime::{Val, ValType};
