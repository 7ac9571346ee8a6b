"""WAT programs for the tests: they need no toolchain."""

# Spawns one thread; both spin forever (for timeouts and interrupts).
SPIN = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32) (loop $l (br $l)))
  (func (export "_start") (drop (call $spawn (i32.const 0))) (loop $l (br $l))))"""

# Thread 1 traps; main spins.
TRAP_IN_THREAD = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $boom unreachable)
  (func (export "wasi_thread_start") (param i32 i32) (call $boom))
  (func (export "_start") (drop (call $spawn (i32.const 0))) (loop $l (br $l))))"""

# proc_exit(arg) from a spawned thread; main spins.
EXIT_FROM_THREAD = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32) (call $exit (local.get 1)))
  (func (export "_start") (drop (call $spawn (i32.const 7))) (loop $l (br $l))))"""

# Writes "hi\\n" to stdout and "oops\\n" to stderr, returns 0.
HELLO = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\\n")
  (data (i32.const 32) "oops\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 32)) (i32.store (i32.const 4) (i32.const 5))
    (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))))"""

# Prints its arguments (then its environment), each followed by NUL, to stdout.
ECHO = """(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $asz (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $aget (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esz (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $eget (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func $print (param $buf i32) (param $len i32)
    (i32.store (i32.const 8) (local.get $buf)) (i32.store (i32.const 12) (local.get $len))
    (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16))))
  (func (export "_start")
    (drop (call $asz (i32.const 0) (i32.const 4)))
    (drop (call $aget (i32.const 1024) (i32.const 8192)))
    (call $print (i32.const 8192) (i32.load (i32.const 4)))
    (drop (call $esz (i32.const 0) (i32.const 4)))
    (drop (call $eget (i32.const 1024) (i32.const 8192)))
    (call $print (i32.const 8192) (i32.load (i32.const 4)))))"""

# Copies stdin to stdout (up to 4096 bytes).
CAT = """(module
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $n i32)
    (loop $more
      (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (i32.const 4096))
      (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $n (i32.load (i32.const 8)))
      (if (i32.gt_u (local.get $n) (i32.const 0)) (then
        (i32.store (i32.const 4) (local.get $n))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br $more))))))"""

# A reactor: _initialize sets a global; add/mul/pair/counter/fail/quit exports.
REACTOR = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $base (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $base (i32.const 100)))
  (func (export "base") (result i32) (global.get $base))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "scale") (param f32 f64) (result f64)
    (f64.mul (f64.promote_f32 (local.get 0)) (local.get 1)))
  (func (export "pair") (param i32) (result i32 i64)
    (local.get 0) (i64.extend_i32_s (local.get 0)))
  (func (export "nothing"))
  (func (export "fail") unreachable)
  (func (export "quit") (param i32) (call $exit (local.get 0))))"""

# 8 threads each call host.add(acc, 1) 1000 times and host.report(tid-arg, acc);
# main waits for all 8 and exits 0.
HOST_CALLS = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (import "host" "report" (func $report (param i32 i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $i i32) (local $acc i32)
    (loop $again
      (local.set $acc (call $add (local.get $acc) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (call $report (local.get $arg) (local.get $acc))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32) (local $v i32)
    (loop $more
      (drop (call $spawn (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 8))))
    (loop $wait
      (local.set $v (i32.atomic.load (i32.const 0)))
      (if (i32.ne (local.get $v) (i32.const 8))
        (then (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1))) (br $wait))))))"""

# Calls host.greet(ptr, len) with "hello" at 64, then host.fill(ptr=128, len=4)
# and exits with the sum of the 4 bytes the host wrote.
HOST_MEMORY = """(module
  (import "host" "greet" (func $greet (param i32 i32)))
  (import "host" "fill" (func $fill (param i32 i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data (i32.const 64) "hello")
  (func (export "_start")
    (call $greet (i32.const 64) (i32.const 5))
    (call $fill (i32.const 128) (i32.const 4))
    (call $exit (i32.add (i32.add (i32.load8_u (i32.const 128)) (i32.load8_u (i32.const 129)))
                         (i32.add (i32.load8_u (i32.const 130)) (i32.load8_u (i32.const 131)))))))"""

# Calls host.tick() once.
HOST_TICK = """(module
  (import "host" "tick" (func $tick))
  (memory (export "memory") 1)
  (func (export "_start") (call $tick)))"""

# A planted data race: the thread stores to 100 while main polls it with
# plain loads; nothing orders the two (README "Finding data races").
RACY = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $publish (export "wasi_thread_start") (param i32 i32)
    (i32.store (i32.const 100) (i32.const 1)))
  (func $poll (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $l (br_if $l (i32.eqz (i32.load (i32.const 100)))))))"""

# RACY with DWARF (as a `-g` build carries) that places `int flag` at 100:
# a race report names it (README "Finding data races").
RACY_DWARF = RACY.replace(
    "(module",
    r"""(module
  (@custom ".debug_abbrev" "\01\11\01\00\00\02\24\00\0b\0b\00\00\03\34\00\03\08\49\13\02\18\00\00\00")
  (@custom ".debug_info" "\1b\00\00\00\04\00\00\00\00\00\04\01\02\04\03flag\00\0c\00\00\00\05\03\64\00\00\00\00")""",
    1,
)
