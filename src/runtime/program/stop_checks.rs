//! Stop checks: how weft stops threads that are running wasm code.
//!
//! At load time (`wait_rewrite`) every `loop` and the entry of every function
//! that calls anything gets
//!
//! ```text
//! (if (i32.atomic.load $stop (i32.const 0)) (then unreachable))
//! ```
//!
//! where `$stop` is a one-page shared memory the module imports as
//! `weft:internal` `stop`, one per run. Ending the run stores 1 there and
//! every thread traps at its next check; the trap is then classified as
//! stopped, since the outcome is already decided. Every cycle of control
//! flow passes a check: a loop header, or the entry of a function that calls
//! (recursion, tail calls); code without either ends on its own.
//!
//! The load is atomic so that Cranelift cannot hoist it out of a loop (a
//! plain `global.get` of a mutable global can be, and was). The check calls
//! nothing, so it does not turn leaf code into calling code or make values
//! live across a call: on a tight loop it costs a load, a test and a branch,
//! where Wasmtime's epoch check also spills the loop's registers around its
//! cold `new_epoch` call (docs/performance.md). The price: a thread running
//! wasm code cannot answer a thread dump (see `Config::precise_dumps`).

use std::sync::atomic::{AtomicU32, Ordering};

use wasm_encoder::{Function, Instruction, MemArg};
use wasmparser::{FunctionBody, Operator};

/// The stop memory's type: one shared page.
pub(crate) fn memory_type() -> wasm_encoder::MemoryType {
    wasm_encoder::MemoryType {
        minimum: 1,
        maximum: Some(1),
        memory64: false,
        shared: true,
        page_size_log2: None,
    }
}

/// Whether `body` contains a call of any kind.
pub(crate) fn calls_anything(body: &FunctionBody<'_>) -> wasmparser::Result<bool> {
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        if matches!(
            ops.read()?,
            Operator::Call { .. }
                | Operator::CallIndirect { .. }
                | Operator::ReturnCall { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::CallRef { .. }
                | Operator::ReturnCallRef { .. }
        ) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Appends a stop check on memory `stop` to `f`.
pub(crate) fn emit(f: &mut Function, stop: u32) {
    f.instruction(&Instruction::I32Const(0))
        .instruction(&Instruction::I32AtomicLoad(MemArg {
            offset: 0,
            align: 2,
            memory_index: stop,
        }))
        .instruction(&Instruction::If(wasm_encoder::BlockType::Empty))
        .instruction(&Instruction::Unreachable)
        .instruction(&Instruction::End);
}

/// Makes a run's stop memory.
pub(crate) fn new_memory(engine: &wasmtime::Engine) -> wasmtime::Result<wasmtime::SharedMemory> {
    wasmtime::SharedMemory::new(engine, wasmtime::MemoryType::shared(1, 1))
}

/// The stop word of `memory`.
fn word(memory: &wasmtime::SharedMemory) -> &AtomicU32 {
    // SAFETY: the memory is one live, page-aligned 64 KiB page, and guest
    // code only ever reads this word atomically (`emit`).
    unsafe { &*memory.data().as_ptr().cast::<AtomicU32>() }
}

/// Raises the stop word: every check on `memory` traps from now on.
pub(crate) fn raise(memory: &wasmtime::SharedMemory) {
    word(memory).store(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_word_stays_raised() {
        let mut config = wasmtime::Config::new();
        config.wasm_threads(true).shared_memory(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let memory = new_memory(&engine).unwrap();
        assert_eq!(word(&memory).load(Ordering::SeqCst), 0);
        raise(&memory);
        raise(&memory);
        assert_eq!(word(&memory).load(Ordering::SeqCst), 1);
    }
}
