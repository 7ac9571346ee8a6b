//! The import and export names weft defines and reads: the wasi-threads
//! names every guest uses, and the `weft:internal` names of what the
//! load-time rewrite adds to a module (`program::wait_rewrite`) and each run
//! provides (`run::waits`, the stop memory, a defined memory made shared).
//!
//! The loading side (`program`) writes and checks these names and the
//! running side (`run`) defines them; both read them here.

/// The import through which guests spawn threads.
pub const SPAWN_MODULE: &str = "wasi";
/// See [`SPAWN_MODULE`].
pub const SPAWN_NAME: &str = "thread-spawn";
/// The export every spawned thread starts in.
pub const ENTRY_NAME: &str = "wasi_thread_start";

/// The reserved import module of the rewritten instructions.
pub const INTERNAL_MODULE: &str = "weft:internal";
/// `(addr i32, expected i32, timeout i64, offset i32) -> i32`
pub(crate) const WAIT32: &str = "memory.atomic.wait32";
/// `(addr i32, expected i64, timeout i64, offset i32) -> i32`
pub(crate) const WAIT64: &str = "memory.atomic.wait64";
/// `(addr i32, count i32, offset i32) -> i32`
pub(crate) const NOTIFY: &str = "memory.atomic.notify";
/// The name of the imported stop memory in [`INTERNAL_MODULE`] (see
/// `program::stop_checks`).
pub(crate) const STOP_MEMORY_NAME: &str = "stop";
/// The import name in [`INTERNAL_MODULE`] that a defined shared memory
/// becomes (see `program::defined_memory`).
pub(crate) const DEFINED_MEMORY_NAME: &str = "memory";

/// The race detector's imports in [`INTERNAL_MODULE`] (see
/// `program::race_instrument` and `runtime::races`), in the order the
/// rewrite imports them. The operands of an instrumented atomic or bulk
/// instruction plus a site id, returned unchanged: `(addr i32, site i32) ->
/// i32`, then with an `i32` or `i64` value, then two values
/// (`memory.fill`, `memory.copy`, `memory.init`, `cmpxchg`), then the hooks
/// after an atomic that reads (`(value, site) -> value`), then
/// `atomic.fence` (`(site) -> ()`), then the slow path of a plain access
/// (`(addr i32, site i32) -> slot i32`: the address of the thread's tag in
/// [`RACE_SHADOW_NAME`]). The `v128` hook comes last and only when the
/// module stores `v128` values.
pub(crate) const RACE_HOOKS: [&str; 10] = [
    "race.addr",
    "race.i32",
    "race.i64",
    "race.i32x2",
    "race.i64x2",
    "race.acquire.i32",
    "race.acquire.i64",
    "race.fence",
    "race.access",
    "race.v128",
];
/// The race detector's fast shadow memory in [`INTERNAL_MODULE`]: the tags
/// of `runtime::races::fast` that let a plain access skip its hook.
pub(crate) const RACE_SHADOW_NAME: &str = "race.shadow";

/// Whether import `module`.`name` is a memory weft's rewrite added (not one
/// of the program's).
pub(crate) fn is_internal_memory(module: &str, name: &str) -> bool {
    module == INTERNAL_MODULE && (name == STOP_MEMORY_NAME || name == RACE_SHADOW_NAME)
}
