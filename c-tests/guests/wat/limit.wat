;; Spawns threads until thread-spawn fails (or 200 succeeded); children park
;; on address 4 until main releases them. Exits with the number spawned.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  ;; 0: children finished; 4: release flag
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (loop $park
      (if (i32.eqz (i32.atomic.load (i32.const 4)))
        (then (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1))) (br $park))))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $n i32) (local $v i32)
    (block $full
      (loop $more
        (br_if $full (i32.lt_s (call $spawn (i32.const 0)) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $n) (i32.const 200)))))
    (i32.atomic.store (i32.const 4) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 4) (i32.const -1)))
    (loop $wait
      (local.set $v (i32.atomic.load (i32.const 0)))
      (if (i32.ne (local.get $v) (local.get $n))
        (then (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1))) (br $wait))))
    (call $exit (local.get $n))))
