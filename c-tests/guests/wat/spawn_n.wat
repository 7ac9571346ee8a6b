;; Spawns N threads (N from host import test.n) that all stay alive until the
;; last one is spawned; each child calls test.child(tid, arg), parks until
;; main releases it, then bumps a shared counter. Main calls
;; test.spawned(result) for every spawn, waits for all children, exits 0.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "n" (func $n (result i32)))
  (import "test" "spawned" (func $spawned (param i32)))
  (import "test" "child" (func $child (param i32 i32)))
  (import "env" "memory" (memory 1 1 shared))
  ;; 0: children finished; 4: release flag
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $child (local.get $tid) (local.get $arg))
    (loop $park
      (if (i32.eqz (i32.atomic.load (i32.const 4)))
        (then (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1))) (br $park))))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32) (local $n i32) (local $v i32)
    (local.set $n (call $n))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $spawned (call $spawn (i32.add (i32.const 1000) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.atomic.store (i32.const 4) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 4) (i32.const -1)))
    (block $all
      (loop $wait
        (local.set $v (i32.atomic.load (i32.const 0)))
        (br_if $all (i32.eq (local.get $v) (local.get $n)))
        (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1)))
        (br $wait)))))
