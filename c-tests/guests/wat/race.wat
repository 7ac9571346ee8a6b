;; A planted data race for `weft-run --detect-races` (README "Finding data
;; races"): the thread stores to 100 while main polls it with plain loads,
;; and nothing orders the two.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $publish (export "wasi_thread_start") (param i32 i32)
    (i32.store (i32.const 100) (i32.const 1)))
  (func $poll (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $l (br_if $l (i32.eqz (i32.load (i32.const 100)))))))
