;; Spawns N threads (N = first host arg via "test" "n"); each child reports the
;; TID it received and adds 1 to a shared counter; main reports every TID
;; thread-spawn returned, waits for the counter to reach N, and exits 0.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "n" (func $n (result i32)))
  (import "test" "spawned" (func $spawned (param i32)))
  (import "test" "child" (func $child (param i32 i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $child (local.get $tid) (local.get $arg))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32) (local $n i32) (local $v i32)
    (local.set $n (call $n))
    (block $done
      (loop $spawn
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $spawned (call $spawn (i32.add (i32.const 1000) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $spawn)))
    (block $all
      (loop $wait
        (local.set $v (i32.atomic.load (i32.const 0)))
        (br_if $all (i32.eq (local.get $v) (local.get $n)))
        (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const 10000000)))
        (br $wait)))))
