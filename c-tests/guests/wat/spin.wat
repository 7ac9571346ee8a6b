;; Main and one child spin forever (for timeouts and interrupts).
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32) (loop $l (br $l)))
  (func (export "_start") (drop (call $spawn (i32.const 0))) (loop $l (br $l))))
