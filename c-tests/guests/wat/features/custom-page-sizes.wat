;; custom-page-sizes: a memory of 1-byte pages, one per thread's instance (off by default, as in wasmtime run 48).
;;
;; One test of weft's WebAssembly features (README "WebAssembly features"):
;; $test runs in the main thread and in 4 spawned threads at once; any wrong
;; result traps. When every thread is done, $after checks what they did
;; together, and the program prints "ok" and exits 0.
;; Run with -W custom-page-sizes=y.
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

  (memory $tiny 1 (pagesize 1))
  (func $test (param $t i32)
    (call $check (i32.eq (memory.size $tiny) (i32.const 1)))
    (call $check (i32.eq (memory.grow $tiny (i32.const 3)) (i32.const 1)))
    (call $check (i32.eq (memory.size $tiny) (i32.const 4)))
    (i32.store8 $tiny (i32.const 3) (local.get $t))
    (call $check (i32.eq (i32.load8_u $tiny (i32.const 3)) (local.get $t))))
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
