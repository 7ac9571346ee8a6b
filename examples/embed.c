/* The smallest useful weft host: run a WebAssembly program, threads and all.
 *   cc embed.c -lweft -o embed && ./embed program.wasm */
#include <stdio.h>
#include <string.h>
#include <weft.h>

int main(int argc, char **argv)
{
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *instance = NULL;
    int32_t exit_code = 1;
    weft_error_t *err;
    if (argc < 2) return 2;
    if (!(err = weft_engine_new(NULL, &engine)) &&
        !(err = weft_module_new_file(engine, argv[1], strlen(argv[1]), &module)) &&
        !(err = weft_instance_new(module, NULL, NULL, &instance)))
        err = weft_instance_run(instance, &exit_code); /* blocks until every thread ended */
    if (err) fprintf(stderr, "error %u: %s\n", (unsigned)weft_error_kind(err), weft_error_message(err));
    weft_error_delete(err);
    weft_instance_delete(instance);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return err ? 1 : exit_code;
}
