;; Two threads hand a counter back and forth N times, each parking in an
;; untimed memory.atomic.wait right after waking the other: the worst case
;; for a deadlock detector that could mistake "just notified" for "parked".
;; Main plays even turns, the child odd ones; main then waits (untimed) for
;; the child's done flag. "test" "rounds" gives N.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "rounds" (func $rounds (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $play (param $role i32) (param $n i32) (local $v i32)
    (loop $l
      (local.set $v (i32.atomic.load (i32.const 0)))
      (if (i32.lt_u (local.get $v) (local.get $n))
        (then
          (if (i32.eq (i32.and (local.get $v) (i32.const 1)) (local.get $role))
            (then
              (i32.atomic.store (i32.const 0) (i32.add (local.get $v) (i32.const 1)))
              (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
            (else
              (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1)))))
          (br $l)))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $play (i32.const 1) (local.get $arg))
    (i32.atomic.store (i32.const 8) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 8) (i32.const 1))))
  (func (export "_start") (local $n i32)
    (local.set $n (call $rounds))
    (drop (call $spawn (local.get $n)))
    (call $play (i32.const 0) (local.get $n))
    (loop $done
      (if (i32.eqz (i32.atomic.load (i32.const 8)))
        (then
          (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))
          (br $done))))))
