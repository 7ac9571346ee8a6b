//! The race detector (`Config::detect_races`, README "Finding data races")
//! with WAT guests: what a report holds, what orders accesses (atomics,
//! waits, spawn), and that without the setting nothing is instrumented.
//! The planted C races and the corpus run as ctests (`-L races`); the
//! counter race runs here too, to see a report name its variable.

mod common;

use std::path::Path;

use common::guest;
use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program, RaceReport};
use weft::wasi::WasiConfig;

/// Runs `wat` to its end and returns the races found.
fn races(wat: &str, detect: bool) -> Vec<RaceReport> {
    let config = Config {
        detect_races: detect,
        ..Config::default()
    };
    let engine = Engine::new(&config).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let instance = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
    assert_eq!(instance.run().unwrap(), Outcome::Exit(0));
    instance.races()
}

/// The thread stores to 100 with a plain store while main polls it with
/// plain loads: nothing orders the two.
const RACY: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $publish (export "wasi_thread_start") (param i32 i32)
    (i32.store offset=96 (i32.const 4) (i32.const 1)))
  (func $poll (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $l (br_if $l (i32.eqz (i32.load (i32.const 100)))))))"#;

#[test]
fn a_race_is_reported_once_with_both_sides() {
    let found = races(RACY, true);
    assert_eq!(found.len(), 1, "{found:#?}");
    let r = &found[0];
    assert_eq!((r.address, r.size), (100, 4));
    // Either side may come first.
    let (publish, poll) = match r.current.write {
        true => (&r.current, &r.previous),
        false => (&r.previous, &r.current),
    };
    assert!(publish.write && !poll.write);
    assert_eq!((publish.tid, poll.tid), (1, 0));
    assert_eq!(publish.func_name.as_deref(), Some("publish"));
    assert_eq!(publish.func_index, Some(1));
    assert_eq!(poll.func_name.as_deref(), Some("poll"));
    assert!(publish.offset.is_some() && poll.offset.is_some());
    assert!(r.backtrace.contains("!poll") || r.backtrace.contains("!publish"));
    let text = r.to_string();
    assert!(text.starts_with("data race on 4 bytes at 0x64:"), "{text}");
    assert!(text.contains("in publish (wasm function 1)"), "{text}");
}

/// [`RACY`] with custom sections `sections` (`(@custom …)` fields).
fn racy_with(sections: &str) -> String {
    RACY.replacen("(module", &format!("(module\n  {sections}"), 1)
}

/// DWARF 4 by hand: a unit with `int flag` at 100 (`DW_OP_addr 0x64`),
/// where [`RACY`] races.
const FLAG_DWARF: &str = r#"(@custom ".debug_abbrev" "\01\11\01\00\00\02\24\00\0b\0b\00\00\03\34\00\03\08\49\13\02\18\00\00\00")
  (@custom ".debug_info" "\1b\00\00\00\04\00\00\00\00\00\04\01\02\04\03flag\00\0c\00\00\00\05\03\64\00\00\00\00")"#;

#[test]
fn a_report_names_the_variable_the_modules_dwarf_places_there() {
    let found = races(&racy_with(FLAG_DWARF), true);
    assert_eq!(found.len(), 1, "{found:#?}");
    let symbol = found[0].symbol.as_ref().expect("a symbol");
    assert_eq!(
        (symbol.name.as_str(), symbol.offset, symbol.size),
        ("flag", 0, 4)
    );
    let text = found[0].to_string();
    assert!(
        text.starts_with(
            "data race on 4 bytes at 0x64 (flag+0, a 4-byte variable in the program's data):\n"
        ),
        "{text}"
    );
}

#[test]
fn garbage_dwarf_gives_no_symbol_and_the_race_is_still_reported() {
    let garbage = [
        r#"(@custom ".debug_info" "\ff\ff\ff\ff\00\01\02\03")"#,
        r#"(@custom ".debug_info" "\1b\00\00\00\04\00") (@custom ".debug_abbrev" "\01")"#,
        // Valid entries, abbreviations cut short.
        &FLAG_DWARF.replacen(r#"\00\00\00")"#, r#"")"#, 1),
    ];
    for sections in garbage {
        let found = races(&racy_with(sections), true);
        assert_eq!(found.len(), 1, "{sections}: {found:#?}");
        assert_eq!(found[0].symbol, None, "{sections}");
        assert!(found[0]
            .to_string()
            .starts_with("data race on 4 bytes at 0x64:\n"));
    }
}

#[test]
fn without_the_setting_nothing_is_instrumented() {
    assert!(races(RACY, false).is_empty());
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, RACY.as_bytes()).unwrap();
    let imports: Vec<String> = program
        .module()
        .imports()
        .map(|i| format!("{}.{}", i.module(), i.name()))
        .collect();
    assert!(!imports.iter().any(|i| i.contains("race.")), "{imports:?}");
}

/// The thread writes 100 then publishes it with an atomic store; main waits
/// with atomic loads (or `memory.atomic.wait`), then reads 100 plainly.
fn published(wait: bool) -> String {
    let poll = if wait {
        "(loop $l (if (i32.eqz (i32.atomic.load (i32.const 200)))
           (then (drop (memory.atomic.wait32 (i32.const 200) (i32.const 0) (i64.const -1)))
                 (br $l))))"
    } else {
        "(loop $l (br_if $l (i32.eqz (i32.atomic.load (i32.const 200)))))"
    };
    format!(
        r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.store (i32.const 100) (i32.load (i32.const 104)))
    (i32.atomic.store (i32.const 200) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 200) (i32.const 1))))
  (func (export "_start")
    ;; Written before the spawn: the thread reads it.
    (i32.store (i32.const 104) (i32.const 7))
    (drop (call $spawn (i32.const 0)))
    {poll}
    (drop (i32.load (i32.const 100)))
    (i32.store (i32.const 100) (i32.const 2))))"#
    )
}

#[test]
fn atomics_waits_and_spawn_order_accesses() {
    assert!(races(&published(false), true).is_empty());
    assert!(races(&published(true), true).is_empty());
}

/// The thread writes 96..104 a thousand times (the inline fast path skips
/// the detector after the first), publishes with an atomic store, then
/// writes it once more; main waits for the publication, reads 100, then
/// waits for the thread to finish (on a flag whose sync clock is not 200's:
/// the detector keeps one per 8 bytes). The last write races with main's
/// read.
const REWRITTEN_AFTER_PUBLISHING: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $writer (export "wasi_thread_start") (param i32 i32)
    (local $i i32)
    (loop $l
      (i64.store (i32.const 96) (i64.extend_i32_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (i32.atomic.store (i32.const 200) (i32.const 1))
    (i64.store (i32.const 96) (i64.const 99))
    (i32.atomic.store (i32.const 208) (i32.const 1)))
  (func $reader (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $l (br_if $l (i32.eqz (i32.atomic.load (i32.const 200)))))
    (drop (i32.load (i32.const 100)))
    (loop $l (br_if $l (i32.eqz (i32.atomic.load (i32.const 208)))))))"#;

#[test]
fn an_access_in_a_new_epoch_is_checked_again() {
    // Were the writer's tag kept across its atomic store, its last write
    // would look like one of the loop's and be skipped: no race.
    for _ in 0..5 {
        let found = races(REWRITTEN_AFTER_PUBLISHING, true);
        assert_eq!(found.len(), 1, "{found:#?}");
        let r = &found[0];
        assert_eq!(r.address, 100);
        let (writer, reader) = match r.current.write {
            true => (&r.current, &r.previous),
            false => (&r.previous, &r.current),
        };
        assert_eq!(writer.func_name.as_deref(), Some("writer"));
        assert_eq!(reader.func_name.as_deref(), Some("reader"));
        assert!(writer.write && !reader.write);
    }
}

/// The thread stores byte 301 then sets an atomic flag; main stores byte
/// 300, fills `before` (before it waits for the flag) and `after`.
fn fills(before: (i32, i32), after: (i32, i32)) -> String {
    format!(
        r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.store8 (i32.const 301) (i32.const 1))
    (i32.atomic.store (i32.const 200) (i32.const 1)))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (i32.store8 (i32.const 300) (i32.const 1))
    (memory.fill (i32.const {}) (i32.const 0) (i32.const {}))
    (loop $l (br_if $l (i32.eqz (i32.atomic.load (i32.const 200)))))
    (memory.fill (i32.const {}) (i32.const 0) (i32.const {}))))"#,
        before.0, before.1, after.0, after.1
    )
}

#[test]
fn bulk_operations_and_neighbouring_bytes() {
    // Byte 300 next to the thread's 301, and a fill of 301 after the flag:
    // ordered.
    assert!(races(&fills((1000, 64), (280, 64)), true).is_empty());
    // A fill of 301 before the flag races with the thread's store.
    let found = races(&fills((280, 64), (1000, 64)), true);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].address, 301);
    assert!([1, 64].contains(&found[0].size), "{found:#?}");
}

#[test]
fn an_instrumented_module_loaded_back_still_runs() {
    let config = Config {
        detect_races: true,
        ..Config::default()
    };
    let engine = Engine::new(&config).unwrap();
    let bytes = Program::from_bytes(&engine, RACY.as_bytes())
        .unwrap()
        .serialize()
        .unwrap();
    // SAFETY: bytes this process just serialized with this engine's configuration.
    let program = unsafe { Program::deserialize(&engine, &bytes) }.unwrap();
    let instance = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
    assert_eq!(instance.run().unwrap(), Outcome::Exit(0));
    // Its sites are gone with the rewrite's frame map: nothing to report.
    assert!(instance.races().is_empty());
}

#[test]
fn an_instrumented_module_from_the_cache_reports_as_a_compiled_one() {
    let dir = std::env::temp_dir().join(format!("weft-races-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |detect: bool| {
        let config = Config {
            detect_races: detect,
            cache_dir: Some(dir.clone()),
            ..Config::default()
        };
        let engine = Engine::new(&config).unwrap();
        let program = Program::from_bytes(&engine, RACY.as_bytes()).unwrap();
        let instance = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
        assert_eq!(instance.run().unwrap(), Outcome::Exit(0));
        let files = std::fs::read_dir(&dir).map_or(0, |d| d.count());
        (instance.races(), files)
    };
    let (compiled, files) = run(true);
    assert_eq!((compiled.len(), files), (1, 1), "{compiled:#?}");
    // Loaded from the cache: its sites are found again.
    let (cached, files) = run(true);
    assert_eq!(files, 1);
    assert_eq!(cached.len(), 1, "{cached:#?}");
    assert_eq!(cached[0].address, compiled[0].address);
    let place = |r: &RaceReport| (r.current.func_name.clone(), r.current.offset);
    let places = [place(&cached[0]), place(&compiled[0])];
    assert!(
        places.iter().all(|p| p.0.is_some() && p.1.is_some()),
        "{places:?}"
    );
    // Without detection the instrumented file is not the one loaded.
    let (off, files) = run(false);
    assert_eq!((off.len(), files), (0, 2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the pthread guest `wasm` under the detector and returns its races.
fn races_of(wasm: &Path) -> Vec<RaceReport> {
    let config = Config {
        detect_races: true,
        ..Config::default()
    };
    let engine = Engine::new(&config).unwrap();
    let program = Program::from_file(&engine, wasm).unwrap();
    let instance = Instance::new(&program, &common::captured(&[]), &HostFuncs::new()).unwrap();
    assert_eq!(instance.run().unwrap(), Outcome::Exit(0));
    instance.races()
}

/// `c-tests/guests/races/counter.c` built with `-g` and without: with the
/// module's DWARF a report names the counter (README "Finding data
/// races"); without it, the same race is reported with its address only.
#[test]
fn a_race_on_a_variable_names_it_when_the_module_has_dwarf() {
    let test = "a_race_on_a_variable_names_it_when_the_module_has_dwarf";
    let src = "c-tests/guests/races/counter.c";
    let Some(debug) = guest::pthread_debug(test, src) else {
        return;
    };
    let plain = guest::pthread(test, src, guest::Memory::Imported).expect("built like the -g one");

    let named = races_of(&debug);
    assert!(!named.is_empty(), "the planted race is found");
    for r in &named {
        let symbol = r
            .symbol
            .as_ref()
            .unwrap_or_else(|| panic!("no symbol: {r}"));
        assert_eq!(
            (symbol.name.as_str(), symbol.offset, symbol.size),
            ("counter", 0, 4)
        );
        let head = format!(
            "data race on 4 bytes at {:#x} (counter+0, a 4-byte variable in the program's data):\n",
            r.address
        );
        assert!(r.to_string().starts_with(&head), "{r}");
    }

    let unnamed = races_of(&plain);
    assert!(!unnamed.is_empty(), "found without DWARF too");
    for r in &unnamed {
        assert_eq!(r.symbol, None, "{r}");
        let head = format!("data race on 4 bytes at {:#x}:\n", r.address);
        assert!(r.to_string().starts_with(&head), "{r}");
    }
    // `-g` does not move the data: the same address, named or not.
    assert_eq!(named[0].address, unnamed[0].address);
}
