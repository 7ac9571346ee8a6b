# wasi_thread_start(tid, start_arg) for the freestanding benchmark guests:
# point __stack_pointer at the stack the spawner reserved (the first field of
# the start argument, see thr_t in sys.h), then call guest_thread_main in C.
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
