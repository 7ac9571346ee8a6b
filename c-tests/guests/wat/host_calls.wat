;; 8 threads each call host.add(acc, 1) 1000 times (so acc ends at 1000) and
;; report acc with host.report(acc). Main waits for all and exits 0.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (import "host" "report" (func $report (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $i i32) (local $acc i32)
    (loop $again
      (local.set $acc (call $add (local.get $acc) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (call $report (local.get $acc))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32) (local $v i32)
    (loop $more
      (drop (call $spawn (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 8))))
    (loop $wait
      (local.set $v (i32.atomic.load (i32.const 0)))
      (if (i32.ne (local.get $v) (i32.const 8))
        (then (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1))) (br $wait))))))
