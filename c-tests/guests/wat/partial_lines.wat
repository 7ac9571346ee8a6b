;; Partial lines, no newline anywhere: threads 0..3 each write "tN;" one
;; after the other (main waits for each), then main writes "done" and
;; returns. Every byte must reach the host's stdout: "t0;t1;t2;t3;done".
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data (i32.const 256) "t#;")
  (data (i32.const 272) "done")
  (func $write (param $ptr i32) (param $len i32) (param $scratch i32)
    (i32.store (local.get $scratch) (local.get $ptr))
    (i32.store offset=4 (local.get $scratch) (local.get $len))
    (drop (call $fd_write (i32.const 1) (local.get $scratch) (i32.const 1)
                          (i32.add (local.get $scratch) (i32.const 8)))))
  (func (export "wasi_thread_start") (param $tid i32) (param $n i32)
    (local $buf i32)
    (local.set $buf (i32.add (i32.const 1024) (i32.mul (local.get $n) (i32.const 64))))
    (memory.copy (local.get $buf) (i32.const 256) (i32.const 3))
    (i32.store8 offset=1 (local.get $buf) (i32.add (i32.const 48) (local.get $n)))
    (call $write (local.get $buf) (i32.const 3) (i32.add (local.get $buf) (i32.const 16)))
    (i32.atomic.store (i32.const 0) (i32.add (local.get $n) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32)
    (loop $more
      (drop (call $spawn (local.get $i)))
      (loop $wait
        (if (i32.ne (i32.atomic.load (i32.const 0)) (i32.add (local.get $i) (i32.const 1)))
          (then (drop (memory.atomic.wait32 (i32.const 0) (local.get $i) (i64.const -1))) (br $wait))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 4))))
    (call $write (i32.const 272) (i32.const 4) (i32.const 512))))
