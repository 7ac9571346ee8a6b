;; Four threads take turns printing a line, coordinated with atomic
;; wait/notify on a shared memory; then main prints a summary and exits 0.
;;   weft-run examples/hello-threads.wat
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))

  ;; Address 0: whose turn it is (1..4, then 5 = all done).
  ;; Text templates; '#' is replaced by a digit.
  (data (i32.const 256) "hello from thread #\n")
  (data (i32.const 288) "main: all 4 threads done\n")

  ;; Writes `len` bytes at `ptr` to stdout, using scratch space at `scratch`.
  (func $print (param $ptr i32) (param $len i32) (param $scratch i32)
    (i32.store (local.get $scratch) (local.get $ptr))
    (i32.store offset=4 (local.get $scratch) (local.get $len))
    (drop (call $fd_write (i32.const 1) (local.get $scratch) (i32.const 1)
                          (i32.add (local.get $scratch) (i32.const 8)))))

  ;; Blocks until the turn counter at 0 equals $want.
  (func $wait_for (param $want i32)
    (local $now i32)
    (loop $again
      (local.set $now (i32.atomic.load (i32.const 0)))
      (if (i32.ne (local.get $now) (local.get $want))
        (then
          (drop (memory.atomic.wait32 (i32.const 0) (local.get $now) (i64.const -1)))
          (br $again)))))

  ;; Thread entry: $n (1..4) is the start argument.
  (func (export "wasi_thread_start") (param $tid i32) (param $n i32)
    (local $buf i32)
    (local.set $buf (i32.add (i32.const 1024) (i32.mul (local.get $n) (i32.const 64))))
    (call $wait_for (local.get $n))
    (memory.copy (local.get $buf) (i32.const 256) (i32.const 20))
    (i32.store8 offset=18 (local.get $buf) (i32.add (i32.const 48) (local.get $n)))
    (call $print (local.get $buf) (i32.const 20) (i32.add (local.get $buf) (i32.const 32)))
    (i32.atomic.store (i32.const 0) (i32.add (local.get $n) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))

  (func (export "_start")
    (local $n i32)
    (local.set $n (i32.const 1))
    (loop $spawn_all
      (if (i32.lt_s (call $spawn (local.get $n)) (i32.const 1)) (then unreachable))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $spawn_all (i32.le_u (local.get $n) (i32.const 4))))
    (i32.atomic.store (i32.const 0) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1)))
    (call $wait_for (i32.const 5))
    (call $print (i32.const 288) (i32.const 25) (i32.const 512))))
