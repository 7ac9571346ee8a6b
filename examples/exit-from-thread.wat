;; A child thread calls proc_exit(42) while the main thread waits forever:
;; the whole program ends with code 42.
;;   weft-run examples/exit-from-thread.wat; echo $?   # 42
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $exit (local.get $arg)))
  (func (export "_start")
    (drop (call $spawn (i32.const 42)))
    ;; Nobody ever notifies address 0: weft must still end this thread.
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
