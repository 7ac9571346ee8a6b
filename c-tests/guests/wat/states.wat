;; A spinning child (in $spin) and a main thread parked forever on 256 (in
;; $main_park); with one thread running it is not a deadlock. Exports
;; "sum" (bytes at p..p+n) for the memory test.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin (loop $l (br $l)))
  (func $main_park (drop (memory.atomic.wait32 (i32.const 256) (i32.const 0) (i64.const -1))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (call $spin))
  (func (export "_start") (drop (call $spawn (i32.const 0))) (call $main_park))
  (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block $out (loop $l
      (br_if $out (i32.eqz (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $s)))
