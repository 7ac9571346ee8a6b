;; A program that hangs without being a deadlock: two workers wait (no
;; timeout) for a job that never comes while main sleeps in poll_oneoff, one
;; second at a time, forever. `examples/thread-dump.c` shows what it does.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $wait_for_job (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func $worker_loop (call $wait_for_job))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (call $worker_loop))
  (func $sleep_1s
    (i32.store8 (i32.const 520) (i32.const 0))          ;; clock subscription
    (i32.store (i32.const 528) (i32.const 1))           ;; monotonic
    (i64.store (i32.const 536) (i64.const 1000000000))  ;; 1 s
    (drop (call $poll_oneoff (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 700))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (call $spawn (i32.const 0)))
    (loop $forever (call $sleep_1s) (br $forever))))
