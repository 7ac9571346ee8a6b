;; function-references: typed function references, call_ref, ref.as_non_null and br_on_null.
;;
;; One test of weft's WebAssembly features (README "WebAssembly features"):
;; $test runs in the main thread and in 4 spawned threads at once; any wrong
;; result traps. When every thread is done, $after checks what they did
;; together, and the program prints "ok" and exits 0.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory $m 1 1 shared))
  (export "memory" (memory $m))
  ;; 0..16: iovec; 32: threads done; 40..64: free for $test/$after;
  ;; 1024 + 256 * t: thread t's own area.
  (data (i32.const 64) "ok\0a")
  (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))
  (func $area (param $t i32) (result i32)
    (i32.add (i32.const 1024) (i32.mul (local.get $t) (i32.const 256))))

  (type $ft (func (param i32) (result i32)))
  (func $inc (type $ft) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ft) (i32.shl (local.get 0) (i32.const 1)))
  (elem declare func $inc $dbl)
  (func $apply (param $f (ref $ft)) (param $x i32) (result i32)
    (call_ref $ft (local.get $x) (local.get $f)))
  (func $is_set (param $f (ref null $ft)) (result i32)
    (block $null
      (drop (br_on_null $null (local.get $f)))
      (return (i32.const 1)))
    (i32.const 0))
  (func $test (param $t i32)
    (local $i i32) (local $f (ref null $ft))
    (loop $l
      (local.set $f (if (result (ref $ft)) (i32.and (local.get $i) (i32.const 1))
                      (then (ref.func $inc)) (else (ref.func $dbl))))
      (call $check (i32.eq (call $apply (ref.as_non_null (local.get $f)) (local.get $t))
                           (if (result i32) (i32.and (local.get $i) (i32.const 1))
                             (then (i32.add (local.get $t) (i32.const 1)))
                             (else (i32.shl (local.get $t) (i32.const 1))))))
      (call $check (call $is_set (local.get $f)))
      (call $check (i32.eqz (call $is_set (ref.null $ft))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20000)))))
  (func $after)

  (func (export "wasi_thread_start") (param $tid i32) (param $t i32)
    (call $test (local.get $t))
    (drop (i32.atomic.rmw.add (i32.const 32) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 32) (i32.const 1))))

  (func (export "_start")
    (local $i i32) (local $n i32)
    (loop $spawning
      (call $check (i32.gt_s (call $spawn (i32.add (local.get $i) (i32.const 1))) (i32.const 0)))
      (br_if $spawning (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
    (call $test (i32.const 0))
    (loop $waiting
      (local.set $n (i32.atomic.load (i32.const 32)))
      (if (i32.lt_u (local.get $n) (i32.const 4))
        (then
          (drop (memory.atomic.wait32 (i32.const 32) (local.get $n) (i64.const -1)))
          (br $waiting))))
    (call $after)
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
