/* thread-dump: run a program, and if it has not finished after a while,
 * print what each of its threads is doing (a JVM-style thread dump), then
 * stop it. Usage: thread-dump FILE.wasm|FILE.wat [MILLISECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weft.h>

int main(int argc, char **argv)
{
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *instance = NULL;
    weft_thread_list_t *dump = NULL;
    weft_error_t *err;
    bool finished = false;
    int32_t exit_code = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.wasm|FILE.wat [MILLISECONDS]\n", argv[0]);
        return 2;
    }
    uint64_t patience_ms = argc > 2 ? strtoull(argv[2], NULL, 10) : 500;
    if (!(err = weft_engine_new(NULL, &engine)) &&
        !(err = weft_module_new_file(engine, argv[1], strlen(argv[1]), &module)) &&
        !(err = weft_instance_new(module, NULL, NULL, &instance)) &&
        !(err = weft_instance_start(instance)))
        err = weft_instance_wait(instance, patience_ms, &finished, &exit_code);
    if (!err && !finished) {
        /* Still running: ask every thread what it is doing. */
        if (!(err = weft_instance_dump(instance, &dump))) {
            printf("%s", weft_thread_list_text(dump));
            for (size_t i = 0; i < weft_thread_list_len(dump); i++)
                if (weft_thread_list_state(dump, i) == WEFT_THREAD_PARKED)
                    printf("thread %u waits with%s a timeout\n", (unsigned)weft_thread_list_tid(dump, i),
                           weft_thread_list_wait(dump, i, NULL, NULL) ? "out" : "");
            weft_thread_list_delete(dump);
            weft_instance_interrupt(instance);
        }
    } else if (!err) {
        printf("finished with exit code %d\n", (int)exit_code);
    }
    if (err) fprintf(stderr, "error %u: %s\n", (unsigned)weft_error_kind(err), weft_error_message(err));
    weft_error_delete(err);
    weft_instance_delete(instance);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return err ? 1 : 0;
}
