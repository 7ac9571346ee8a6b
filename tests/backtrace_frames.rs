//! A trap in a module weft rewrote at load time (atomic waits, a defined
//! shared memory) shows the frames of the module as given: the original
//! function indices and code offsets, the same text Wasmtime prints for the
//! unrewritten module.

mod common;

use common::*;
use std::sync::Arc;

use weft::runtime::{Config, Engine, Error, HostFunc, HostFuncs, Instance, Program};

/// Imported shared memory, waits (so the module is rewritten), names for
/// some functions and none for others, a trap three calls deep. `$which`
/// picks the trap: 0 unreachable, 1 a misaligned (rewritten) wait.
const GUEST: &str = r#"(module
  (import "env" "f" (func $f))
  (import "env" "memory" (memory 1 1 shared))
  (func $named (export "go") (param $which i32)
    (call 2 (local.get $which)))
  (func (param i32)
    (nop) (nop)
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
    (call $deep (local.get 0)))
  (func $deep (param i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (drop (memory.atomic.wait32 (i32.const 2) (i32.const 0) (i64.const 0))))
  (func (export "_start")))"#;

fn trap(program: &Program, which: i32) -> String {
    let mut host = HostFuncs::new();
    host.define(HostFunc {
        module: "env".into(),
        name: "f".into(),
        params: vec![],
        results: vec![],
        callback: Arc::new(|_, _, _| Ok(())),
    });
    let cfg = captured(&["frames"]);
    let inst = Instance::new(program, &cfg, &host).unwrap();
    let err: Error = inst
        .call("go", &[weft::runtime::Val::I32(which)])
        .expect_err("traps");
    err.trap_info().expect("a trap").backtrace.clone()
}

#[test]
fn rewritten_frames_match_the_original_module() {
    let engine = Engine::new(&Config::default()).unwrap();
    let rewritten = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
    // The same module compiled as it is: Wasmtime's own backtrace text.
    let original = wasmtime::Module::new(engine.wasmtime(), GUEST).unwrap();
    let original = Program::from_module(&engine, original).unwrap();
    for which in [0, 1] {
        let want = trap(&original, which);
        let got = trap(&rewritten, which);
        assert!(want.contains("<wasm function 2>"), "{want}");
        assert!(want.contains("!deep") && want.contains("!named"), "{want}");
        assert_eq!(got, want, "trap {which}");
    }
}

/// A defined shared memory (made an import) and waits: offsets still point
/// at the original `unreachable`.
#[test]
fn a_defined_memory_module_points_at_the_original_instruction() {
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func (param i32) (result i32)))
      (memory (export "memory") 1 1 shared)
      (func (export "wasi_thread_start") (param i32 i32))
      (func $go_trap (export "go") (param i32)
        (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
        (unreachable))
      (func (export "_start")))"#;
    let bytes = wat::parse_str(wat).unwrap();
    // Where `unreachable` is in the original binary.
    let mut at = None;
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let mut ops = body.get_operators_reader().unwrap();
            while !ops.eof() {
                let (op, off) = ops.read_with_offset().unwrap();
                if matches!(op, wasmparser::Operator::Unreachable) {
                    at = Some(off);
                }
            }
        }
    }
    let at = at.unwrap();
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, &bytes).unwrap();
    let inst = Instance::new(&program, &captured(&["t"]), &HostFuncs::new()).unwrap();
    let err = inst.call("go", &[weft::runtime::Val::I32(0)]).unwrap_err();
    let bt = &err.trap_info().unwrap().backtrace;
    let first = bt.lines().nth(1).unwrap();
    assert!(first.contains(&format!("{at:#x} - ")), "{at:#x}: {bt}");
    assert!(first.ends_with("!go_trap"), "{bt}");
}
