/* Runs the program named on the command line; exits with its exit code. */
#include <stdio.h>
#include <string.h>

#include <weft.h>

int main(int argc, char **argv)
{
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *instance = NULL;
    weft_error_t *err = NULL;
    int32_t code = 1;
    if (argc != 2) return 2;
    if (strcmp(weft_version(), WEFT_VERSION_STRING) != 0) return 3;
    if (!(err = weft_engine_new(NULL, &engine)) &&
        !(err = weft_module_new_file(engine, argv[1], strlen(argv[1]), &module)) &&
        !(err = weft_instance_new(module, NULL, NULL, &instance)))
        err = weft_instance_run(instance, &code);
    if (err) fprintf(stderr, "%s\n", weft_error_message(err));
    weft_error_delete(err);
    weft_instance_delete(instance);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return err ? 1 : code;
}
