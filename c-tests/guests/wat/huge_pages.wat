;; Grows its shared memory to 32 MiB and writes one word in every 4 KiB page
;; (test_huge_pages then reads how the kernel backs that memory).
(module
  (import "env" "memory" (memory 1 1024 shared))
  (export "memory" (memory 0))
  (func (export "_start") (local $at i32)
    (if (i32.ne (memory.grow (i32.const 511)) (i32.const 1)) (then unreachable))
    (loop $touch
      (i32.store (local.get $at) (local.get $at))
      (local.set $at (i32.add (local.get $at) (i32.const 4096)))
      (br_if $touch (i32.lt_u (local.get $at) (i32.const 0x2000000))))))
