;; Writes "hello\n" to stdout from a spawned thread and from the main thread,
;; then exits with the main thread's fd_write errno (0 on success).
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data (i32.const 16) "hello\n")
  (func $write (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.atomic.store (i32.const 32) (i32.add (i32.const 1000) (call $write))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 32)))))
    (call $exit (call $write))))
