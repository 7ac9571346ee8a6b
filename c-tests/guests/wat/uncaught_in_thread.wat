;; An exception that no try_table catches, thrown in a spawned thread deep in
;; a recursion while the main thread waits without a timeout: the program ends
;; as a trap of that thread (weft-run: exit 134, "uncaught exception" and the
;; backtrace on stderr); the waiting main thread is stopped.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (tag $e (param i32))
  (func $thrower (param $n i32)
    (if (i32.eqz (local.get $n)) (then (throw $e (i32.const 42))))
    (call $thrower (i32.sub (local.get $n) (i32.const 1))))
  (func $thread_start (export "wasi_thread_start") (param i32 i32)
    ;; caught here and thrown on: try_table does not stop it either
    (block $h (result i32)
      (try_table (catch $e $h) (call $thrower (i32.const 5)))
      (return))
    (throw $e))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
