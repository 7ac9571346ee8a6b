;; race.wat with the DWARF a `-g` build carries, written by hand: a unit
;; with `int flag` at 100 (DW_OP_addr 0x64), where the race is; a report
;; names it (README "Finding data races").
(module
  (@custom ".debug_abbrev" "\01\11\01\00\00\02\24\00\0b\0b\00\00\03\34\00\03\08\49\13\02\18\00\00\00")
  (@custom ".debug_info" "\1b\00\00\00\04\00\00\00\00\00\04\01\02\04\03flag\00\0c\00\00\00\05\03\64\00\00\00\00")
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $publish (export "wasi_thread_start") (param i32 i32)
    (i32.store (i32.const 100) (i32.const 1)))
  (func $poll (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $l (br_if $l (i32.eqz (i32.load (i32.const 100)))))))
