//! Tests of the race instrumentation: the module it makes is valid, and
//! runs as the module given did (values, memories, traps).

use super::*;

#[test]
fn accesses_become_hook_calls_and_the_module_stays_valid() {
    let wat = r#"(module
      (import "env" "memory" (memory 1 2 shared))
      (func $f (export "f") (param i32) (result i32)
        (i32.store offset=8 (local.get 0) (i32.const 1))
        (i64.store (local.get 0) (i64.load offset=16 (local.get 0)))
        (memory.fill (local.get 0) (i32.const 0) (i32.const 4))
        (memory.copy (local.get 0) (i32.const 64) (i32.const 4))
        (drop (i32.atomic.rmw.cmpxchg (local.get 0) (i32.const 0) (i32.const 1)))
        (drop (i64.atomic.rmw.add (local.get 0) (i64.const 1)))
        (atomic.fence)
        (i32.atomic.load (local.get 0))))"#;
    let bytes = wat::parse_str(wat).unwrap();
    let (out, map, sites) = instrument(&bytes, None).unwrap().expect("instrumented");
    assert_eq!(sites.sites.len(), 9);
    assert_eq!(sites.sites[0].kind, Kind::Write);
    assert_eq!((sites.sites[0].size, sites.sites[0].offset), (4, 8));
    assert_eq!(sites.sites[1].kind, Kind::Read);
    assert_eq!(sites.sites[1].offset, 16);
    assert_eq!(map.added_funcs, 9);
    assert_eq!(sites.names.get(&0).map(String::as_str), Some("f"));
    let mut config = wasmtime::Config::new();
    config.wasm_threads(true).shared_memory(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    wasmtime::Module::new(&engine, &out).unwrap();
    let unshared = wat::parse_str("(module (memory 1) (func (drop (i32.load (i32.const 0)))))");
    assert!(instrument(&unshared.unwrap(), None).unwrap().is_none());
    // Only weft's stop memory is shared: nothing to instrument.
    let stop_only = wat::parse_str(
        r#"(module (import "weft:internal" "stop" (memory 1 1 shared)) (memory 1)
           (func (drop (i32.atomic.load 0 (i32.const 0)))))"#,
    );
    assert!(instrument(&stop_only.unwrap(), None).unwrap().is_none());
}

/// Runs `f` of `wat` as given and instrumented (hooks that only hand
/// their operands back, `race.access` counted): both must give the
/// same results.
fn same_results(wat: &str, args: &[i32]) -> (Vec<i64>, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use wasmtime::{Linker, Module, SharedMemory, Store, Val};
    let mut config = wasmtime::Config::new();
    config.wasm_threads(true).shared_memory(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let bytes = wat::parse_str(wat).unwrap();
    let (out, ..) = instrument(&bytes, None).unwrap().expect("instrumented");
    let calls = Arc::new(AtomicUsize::new(0));
    let run = |bytes: &[u8]| {
        let module = Module::new(&engine, bytes).unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        for import in module.imports() {
            if let wasmtime::ExternType::Memory(ty) = import.ty() {
                let memory = SharedMemory::new(&engine, ty).unwrap();
                linker
                    .define(&store, import.module(), import.name(), memory)
                    .unwrap();
            }
        }
        let m = INTERNAL_MODULE;
        let c = calls.clone();
        linker
            .func_wrap(m, "race.access", move |_a: i32, _site: i32| {
                c.fetch_add(1, Ordering::Relaxed);
                4i32
            })
            .unwrap();
        linker
            .func_wrap(m, "race.addr", |a: i32, _: i32| a)
            .unwrap();
        linker
            .func_wrap(m, "race.i32", |a: i32, v: i32, _: i32| (a, v))
            .unwrap();
        linker
            .func_wrap(m, "race.i64", |a: i32, v: i64, _: i32| (a, v))
            .unwrap();
        linker
            .func_wrap(m, "race.i32x2", |a: i32, x: i32, y: i32, _: i32| (a, x, y))
            .unwrap();
        linker
            .func_wrap(m, "race.i64x2", |a: i32, x: i64, y: i64, _: i32| (a, x, y))
            .unwrap();
        linker
            .func_wrap(m, "race.acquire.i32", |v: i32, _: i32| v)
            .unwrap();
        linker
            .func_wrap(m, "race.acquire.i64", |v: i64, _: i32| v)
            .unwrap();
        linker.func_wrap(m, "race.fence", |_: i32| {}).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let f = instance.get_func(&mut store, "f").unwrap();
        let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut results = vec![Val::I64(0)];
        match f.call(&mut store, &args, &mut results) {
            Ok(()) => vec![results[0].unwrap_i64()],
            Err(e) => {
                let trap = e.downcast_ref::<wasmtime::Trap>().copied();
                vec![-1, trap.map_or(-1, |t| t as i64)]
            }
        }
    };
    let given = run(&bytes);
    let before = calls.load(Ordering::Relaxed);
    let instrumented = run(&out);
    assert_eq!(before, 0);
    assert_eq!(given, instrumented, "{wat}");
    (instrumented, calls.load(Ordering::Relaxed))
}

#[test]
fn the_fast_path_keeps_every_value_memory_and_trap() {
    // Every store type with offsets, a defined memory after the shared
    // one (its index moves past the shadow's), no globals of its own.
    let wat = r#"(module
      (import "env" "memory" (memory 1 2 shared))
      (memory $own 1)
      (func (export "f") (param i32) (result i64)
        (i32.store8 offset=3 (local.get 0) (i32.const 0x1ff))
        (i32.store16 offset=6 (local.get 0) (i32.const 0x1234))
        (i64.store32 offset=12 (local.get 0) (i64.const 0x5678))
        (f32.store offset=16 (local.get 0) (f32.const 1.5))
        (f64.store offset=24 (local.get 0) (f64.const -2.25))
        (i64.store offset=33 (local.get 0) (i64.const 7))
        (i32.store $own (i32.const 8) (i32.const 40))
        (i64.add
          (i64.add
            (i64.add (i64.load8_u offset=3 (local.get 0)) (i64.load16_s offset=6 (local.get 0)))
            (i64.add (i64.load32_u offset=12 (local.get 0))
                     (i64.trunc_f32_s (f32.load offset=16 (local.get 0)))))
          (i64.add
            (i64.add (i64.trunc_f64_s (f64.load offset=24 (local.get 0)))
                     (i64.load offset=33 (local.get 0)))
            (i64.extend_i32_u (i32.load $own (i32.const 8)))))))"#;
    // 4-byte blocks, and 8-byte ones for a memory of up to 4 GiB.
    for wat in [
        wat.to_string(),
        wat.replace("(memory 1 2 shared)", "(memory 1 65536 shared)"),
    ] {
        let (results, calls) = same_results(&wat, &[1000]);
        assert_eq!(results, vec![0xff + 0x1234 + 0x5678 + 1 - 2 + 7 + 40]);
        // In a fresh shadow memory the slot and every block hold 0:
        // the aligned writes match and skip the hook; the reads (0 | 1
        // != 0) and the unaligned write call it.
        assert_eq!(calls, 7);
    }
    // Out of bounds, also with an offset that wraps the i32 address:
    // the same trap as without instrumentation.
    let wat = r#"(module
      (import "env" "memory" (memory 1 2 shared))
      (global $g (mut i32) (i32.const 5))
      (func (export "f") (param i32) (result i64)
        (global.set $g (i32.const 6))
        (i64.load offset=0xfffffff0 (local.get 0))))"#;
    same_results(wat, &[0x20]);
    same_results(wat, &[-0x10]);
    same_results(wat, &[0x1_0000 - 0xffff_fff0_u32 as i32]);
}

#[test]
fn a_copy_between_the_shared_memory_and_a_64_bit_one_keeps_its_operands() {
    let wat = r#"(module
      (import "env" "memory" (memory 1 2 shared))
      (memory $wide i64 1)
      (func (export "f") (param i32) (result i64)
        (i32.store (local.get 0) (i32.const 0x1234))
        (memory.copy $wide 0 (i64.const 8) (local.get 0) (i32.const 4))
        (memory.copy 0 $wide (i32.add (local.get 0) (i32.const 16)) (i64.const 8) (i32.const 4))
        (i64.load (i32.add (local.get 0) (i32.const 16)))))"#;
    assert_eq!(same_results(wat, &[64]).0, vec![0x1234]);
    // Out of bounds on the shared side: the same trap.
    same_results(wat, &[0x1_fff0]);
}
