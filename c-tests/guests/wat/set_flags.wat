;; What wasi-libc's fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND) does on stdin,
;; stdout and stderr; exits with the sum of the errnos (0: all accepted).
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $exit (i32.add (call $set (i32.const 0) (i32.const 4))
                (i32.add (call $set (i32.const 1) (i32.const 5))
                         (call $set (i32.const 2) (i32.const 5)))))))
