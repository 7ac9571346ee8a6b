;; Writes 64 KiB to stdout in a loop, from a spawned thread and the main
;; thread, forever: with nobody reading the pipe, both block in fd_write until
;; the program ends. Exits with 200 + errno if a write fails.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 2 2 shared))
  (func $flood (param $iov i32) (local $e i32)
    (i32.store (local.get $iov) (i32.const 1024))
    (i32.store offset=4 (local.get $iov) (i32.const 65536))
    (loop $l
      (local.set $e (call $fd_write (i32.const 1) (local.get $iov) (i32.const 1)
                                    (i32.add (local.get $iov) (i32.const 8))))
      (if (local.get $e) (then (call $exit (i32.add (i32.const 200) (local.get $e)))))
      (br $l)))
  (func (export "wasi_thread_start") (param i32 i32) (call $flood (i32.const 32)))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (call $flood (i32.const 0))))
