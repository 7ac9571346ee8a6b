//! Builds the linker every thread of one run instantiates from: WASI, the
//! `thread-spawn` import, the shared memory, and the embedder's host functions.

use wasmtime::{Caller, FuncType, Linker, SharedMemory, Store};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::host_func::{HostCall, HostFuncs};
use crate::runtime::imports::{INTERNAL_MODULE, RACE_HOOKS, RACE_SHADOW_NAME, STOP_MEMORY_NAME};
use crate::runtime::observe::registry;
use crate::runtime::observe::thread_state::ThreadSlot;
use crate::runtime::races;
use crate::runtime::run::spawn;
use crate::runtime::run::thread_data::ThreadData;
use crate::runtime::run::waits;
use crate::wasi::{self, GuestMemory};

/// Makes the linker for one run. `store` is the main thread's store (needed to
/// define the shared memory).
pub(crate) fn build(store: &Store<ThreadData>, host: &HostFuncs) -> Result<Linker<ThreadData>> {
    let run = store.data().run.clone();
    let engine = store.engine();
    let mut linker = Linker::new(engine);
    linker.allow_shadowing(true);
    let internal = |e: wasmtime::Error| Error::wrap(ErrorKind::Internal, "cannot set up linker", e);
    wasi::add_to_linker(&mut linker).map_err(internal)?;
    spawn::add_to_linker(
        &mut linker,
        |caller: &mut Caller<'_, ThreadData>, start_arg| {
            let run = &caller.data().run;
            let memory = run.memory.clone().map(GuestMemory::Shared);
            spawn::spawn(run, start_arg, |tid| run.new_store(tid, memory))
        },
    )
    .map_err(internal)?;
    if let (Some((module, name, _)), Some(memory)) = (&run.program.memory_import, &run.memory) {
        linker
            .define(store, module, name, memory.clone())
            .map_err(internal)?;
    }
    if let Some(stop) = &run.stop_memory {
        linker
            .define(store, INTERNAL_MODULE, STOP_MEMORY_NAME, stop.clone())
            .map_err(internal)?;
    }
    run.threads.set_host_names(
        host.funcs
            .iter()
            .map(|f| format!("{}.{}", f.module, f.name))
            .collect(),
    );
    for (index, func) in host.funcs.iter().enumerate() {
        let ty = FuncType::new(
            engine,
            func.params.iter().cloned(),
            func.results.iter().cloned(),
        );
        let callback = func.callback.clone();
        let label = format!("{}.{}", func.module, func.name);
        linker
            .func_new(
                &func.module,
                &func.name,
                ty,
                move |caller, args, results| {
                    let data = caller.data();
                    data.run.check_running()?;
                    let (memory_base, memory_size) = match &data.memory {
                        Some(m) => m.raw_parts(&caller),
                        None => (std::ptr::null_mut(), 0),
                    };
                    let call = HostCall {
                        tid: data.tid,
                        memory_base,
                        memory_size,
                    };
                    registry::with_current(|s| s.enter_host(index));
                    let result = callback(&call, args, results);
                    // A call the end interrupted leaves the state as the
                    // end found it (in the host function), for final dumps.
                    caller.data().run.check_running()?;
                    registry::with_current(ThreadSlot::running);
                    registry::answer_dump(&caller);
                    result.map_err(|msg| {
                        wasmtime::Error::msg(format!("host function {label} failed: {msg}"))
                    })?;
                    Ok(())
                },
            )
            .map_err(|e| {
                Error::wrap(ErrorKind::InvalidArgument, "cannot define host function", e)
            })?;
    }
    // Last, so the embedder cannot shadow them.
    // Also for an instrumented module that was serialized and loaded back
    // (its sites are gone: the hooks then report nothing).
    let instrumented = run.races.is_some()
        || run
            .program
            .module
            .imports()
            .any(|i| i.module() == INTERNAL_MODULE && RACE_HOOKS.contains(&i.name()));
    if instrumented {
        races::add_to_linker(&mut linker).map_err(internal)?;
        let shadow = match &run.races {
            Some(det) => Some(det.fast_memory().clone()),
            // Loaded back without its sites (see above): a shadow memory
            // of the size it asks for. What the fast path skips there, the
            // hooks would not report either.
            None => shadow_of(&run.program.module, engine).map_err(internal)?,
        };
        if let Some(shadow) = shadow {
            linker
                .define(store, INTERNAL_MODULE, RACE_SHADOW_NAME, shadow)
                .map_err(internal)?;
        }
    }
    if let Some(memory) = &run.memory {
        waits::add_to_linker(&mut linker, memory.clone(), |d: &mut ThreadData| &*d.run)
            .map_err(internal)?;
    }
    Ok(linker)
}

/// A new memory of the type of `module`'s fast shadow import, if it has one.
fn shadow_of(
    module: &wasmtime::Module,
    engine: &wasmtime::Engine,
) -> wasmtime::Result<Option<SharedMemory>> {
    let ty = module.imports().find_map(|i| match i.ty() {
        wasmtime::ExternType::Memory(ty)
            if i.module() == INTERNAL_MODULE && i.name() == RACE_SHADOW_NAME =>
        {
            Some(ty)
        }
        _ => None,
    });
    ty.map(|ty| SharedMemory::new(engine, ty)).transpose()
}
