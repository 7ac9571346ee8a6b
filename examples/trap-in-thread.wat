;; A child thread divides by zero while the main thread spins: the program
;; ends as a trap naming the thread, and weft-run exits with status 134.
;;   weft-run examples/trap-in-thread.wat; echo $?   # 134
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $divide (param $a i32) (param $b i32) (result i32)
    (i32.div_u (local.get $a) (local.get $b)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (call $divide (i32.const 1) (local.get $arg))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $spin (br $spin))))
