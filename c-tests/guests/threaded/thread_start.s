# wasi_thread_start(tid, start_arg) for freestanding threaded guests.
#
# A new thread's instance starts with __stack_pointer at the main thread's
# initial value, so before any C code runs (C code uses the shadow stack) we
# point it at the stack the spawner reserved: the first field of the start
# argument (see struct thread_start in threads.h) holds its top. Then call
# the C entry point guest_thread_main(tid, start_arg).
        .text

        .globaltype __stack_pointer, i32
        .functype guest_thread_main (i32, i32) -> ()

        .globl wasi_thread_start
        .type wasi_thread_start,@function
wasi_thread_start:
        .functype wasi_thread_start (i32, i32) -> ()
        local.get 1
        i32.load 0
        global.set __stack_pointer
        local.get 0
        local.get 1
        call guest_thread_main
        end_function
