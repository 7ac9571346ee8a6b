;; A program that hangs while burning a CPU: a worker spins on a flag that
;; nobody sets (a busy-wait, no atomic.wait), another worker waits for a job
;; that never comes, and main sleeps in poll_oneoff, one second at a time,
;; forever. `weft-run --timeout 1s busy-wait.wat` ends it and prints every
;; thread's frames, the spinning one's too.
(module $busy_wait
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin_until_ready
    (loop $spin (br_if $spin (i32.eqz (i32.atomic.load (i32.const 32))))))
  (func $wait_for_job (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func $thread_start (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (local.get $arg)
      (then (call $spin_until_ready))
      (else (call $wait_for_job))))
  (func $sleep_1s
    (i32.store8 (i32.const 520) (i32.const 0))          ;; clock subscription
    (i32.store (i32.const 528) (i32.const 1))           ;; monotonic
    (i64.store (i32.const 536) (i64.const 1000000000))  ;; 1 s
    (drop (call $poll_oneoff (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 700))))
  (func $main (export "_start")
    (drop (call $spawn (i32.const 1)))
    (drop (call $spawn (i32.const 0)))
    (loop $forever (call $sleep_1s) (br $forever))))
