;; Guest code on the embedder's thread writing to stdout: the start function
;; writes "start" and keeps fd_write's errno at address 64; the reactor
;; export `write` writes "call" and returns the errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "start")
  (data (i32.const 32) "call")
  (func $out (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func $start (i32.store (i32.const 64) (call $out (i32.const 16) (i32.const 5))))
  (start $start)
  (func (export "start_errno") (result i32) (i32.load (i32.const 64)))
  (func (export "write") (result i32) (call $out (i32.const 32) (i32.const 4))))
