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

mod config;
mod engine;
mod error;
mod features;
mod host_func;
pub(crate) mod imports;
mod instance;
pub(crate) mod memory;
pub(crate) mod observe;
pub(crate) mod program;
pub(crate) mod races;
pub(crate) mod run;
mod sigpipe;
mod thread_pool;

pub use config::{Config, Profiler, DEFAULT_MAX_THREADS, DEFAULT_OS_STACK, DEFAULT_WASM_STACK};
pub use engine::Engine;
pub use error::{Error, ErrorKind, Result, TrapInfo};
pub use features::{WasmFeatures, ALL_PROPOSALS};
pub use host_func::{HostCall, HostCallback, HostFunc, HostFuncs};
pub use imports::{ENTRY_NAME, INTERNAL_MODULE, SPAWN_MODULE, SPAWN_NAME};
pub use instance::Instance;
pub use observe::dump::ThreadDump;
pub use observe::registry::DUMP_TIMEOUT;
pub use observe::thread_state::{ThreadInfo, ThreadState};
pub use program::compile_pool::release_idle_threads;
pub use program::Program;
pub use races::{DataSymbol, RaceAccess, RaceReport};
pub use run::main_thread::MAIN_TID;
pub use run::outcome::Outcome;
pub use run::spawn::SPAWN_FAILED;
pub use run::stopping::STOP_GRACE;
pub use run::thread_data::ThreadData;
pub use run::tids::{Stats, MAX_TID};
pub use thread_pool::{IDLE_TIMEOUT, MAX_IDLE_THREADS};
pub use wasmtime::{Val, ValType};
