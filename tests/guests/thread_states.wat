;; One guest for thread states and dumps. `_start` spawns one child per
;; behaviour (the start argument picks it), then parks itself in an untimed
;; wait on address 256 (never notified: the host ends the program).
;;   1: spins in $spin           2: parks untimed on 64 in $park
;;   3: parks with a 10 s timeout on 128 in $park_timed
;;   4: sleeps 10 s in poll_oneoff in $sleep
;;   5: calls the host function "env" "block" in $in_host (if the mode says so)
;; "test" "children" says how many behaviours to start (1..=5).
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "test" "children" (func $children (result i32)))
  (import "env" "block" (func $block))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin (loop $l (br $l)))
  (func $park (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func $park_timed
    (loop $l
      (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const 10000000000)))
      (br $l)))
  (func $sleep
    ;; one clock subscription at 512: userdata 0, tag 0 (clock),
    ;; id 1 (monotonic), timeout 10 s, precision 0, flags 0 (relative)
    (i32.store8 (i32.const 520) (i32.const 0))
    (i32.store (i32.const 528) (i32.const 1))
    (i64.store (i32.const 536) (i64.const 10000000000))
    (drop (call $poll (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 700))))
  (func $in_host (call $block))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (i32.eq (local.get $arg) (i32.const 1)) (then (call $spin)))
    (if (i32.eq (local.get $arg) (i32.const 2)) (then (call $park)))
    (if (i32.eq (local.get $arg) (i32.const 3)) (then (call $park_timed)))
    (if (i32.eq (local.get $arg) (i32.const 4)) (then (call $sleep)))
    (if (i32.eq (local.get $arg) (i32.const 5)) (then (call $in_host))))
  (func $main_park (drop (memory.atomic.wait32 (i32.const 256) (i32.const 0) (i64.const -1))))
  (func (export "_start") (local $i i32)
    (local.set $i (i32.const 1))
    (loop $l
      (drop (call $spawn (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.le_u (local.get $i) (call $children))))
    (call $main_park)))
