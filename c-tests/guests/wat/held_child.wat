;; An end decided while a thread is still running: a child calls test.hold
;; (the host keeps it there until the test lets it go); main waits until
;; test.held says it is there, then ends the program as test.mode says:
;;   1: proc_exit(5)
;;   2: traps (unreachable)
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "test" "mode" (func $mode (result i32)))
  (import "test" "hold" (func $hold))
  (import "test" "held" (func $held (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $hold))
  (func $main_traps unreachable)
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $until_held (br_if $until_held (i32.eqz (call $held))))
    (if (i32.eq (call $mode) (i32.const 1)) (then (call $exit (i32.const 5))))
    (call $main_traps)))
