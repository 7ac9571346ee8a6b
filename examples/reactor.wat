;; A reactor (no _start): _initialize sets up state, and `answer` spawns two
;; threads that each add 21 to a shared counter, waits for both, and
;; returns the total.
;;   weft-run --invoke answer examples/reactor.wat   # prints 42
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  ;; 0: total, 4: threads finished, 8: initialized flag
  (func (export "_initialize")
    (i32.atomic.store (i32.const 8) (i32.const 1)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (local.get $arg)))
    (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 4) (i32.const -1))))
  (func (export "answer") (result i32)
    (local $done i32)
    (if (i32.eqz (i32.atomic.load (i32.const 8))) (then unreachable))
    (drop (call $spawn (i32.const 21)))
    (drop (call $spawn (i32.const 21)))
    (loop $wait
      (local.set $done (i32.atomic.load (i32.const 4)))
      (if (i32.lt_u (local.get $done) (i32.const 2))
        (then
          (drop (memory.atomic.wait32 (i32.const 4) (local.get $done) (i64.const -1)))
          (br $wait))))
    (i32.atomic.load (i32.const 0))))
