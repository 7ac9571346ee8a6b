;; One guest for the outcome matrix. "test" "mode" picks what happens:
;;   1: main spawns a spinner, then proc_exit(7)
;;   2: a child proc_exit(9) while main and another child spin
;;   3: main spawns a spinner, then returns from _start
;;   4: a child traps (unreachable) while main spins
;;   5: everyone spins (host interrupts or times out)
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "test" "mode" (func $mode (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin (loop $l (br $l)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (i32.eq (local.get $arg) (i32.const 2)) (then (call $exit (i32.const 9))))
    (if (i32.eq (local.get $arg) (i32.const 4)) (then (call $boom)))
    (call $spin))
  (func $boom unreachable)
  (func (export "_start")
    (local $m i32)
    (local.set $m (call $mode))
    (drop (call $spawn (i32.const 0)))
    (if (i32.eq (local.get $m) (i32.const 1)) (then (call $exit (i32.const 7))))
    (if (i32.eq (local.get $m) (i32.const 2)) (then (drop (call $spawn (i32.const 2)))))
    (if (i32.eq (local.get $m) (i32.const 3)) (then (return)))
    (if (i32.eq (local.get $m) (i32.const 4)) (then (drop (call $spawn (i32.const 4)))))
    (call $spin)))
