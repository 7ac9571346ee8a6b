;; Main and one child each wait forever (no timeout) for the other: a deadlock.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $wait_for_main (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func $wait_for_child (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (call $wait_for_main))
  (func (export "_start") (drop (call $spawn (i32.const 0))) (call $wait_for_child)))
