/* The real programs of the WebAssembly-features tests (setjmp/longjmp in
 * threads, nextpnr's C++ exceptions) through the C API directly, the way an
 * application embeds weft, rather than through weft-run:
 *
 *   test_real_programs [-W SPEC] [--dir HOST::GUEST]... FILE.wasm [ARGS...]
 *
 * Runs FILE with the default engine configuration (plus the -W switches,
 * through weft_config_set_wasm_features), inherited standard streams and
 * the preopens; exits with the guest's exit status, 134 for a trap (the
 * thread id and message on stderr), 1 for any other error. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

static int fail(const char *what, weft_error_t *err)
{
    uint32_t tid = 0;
    int trap = weft_error_kind(err) == WEFT_ERROR_TRAP;
    if (trap && weft_error_trap_tid(err, &tid))
        fprintf(stderr, "test_real_programs: guest thread %u trapped\n", (unsigned)tid);
    fprintf(stderr, "test_real_programs: %s: %s\n", what, weft_error_message(err));
    weft_error_delete(err);
    return trap ? 134 : 1;
}

int main(int argc, char **argv)
{
    weft_config_t *config = weft_config_new();
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *instance = NULL;
    weft_error_t *err = NULL;
    int status = 1, i = 1;
    int32_t code = 0;

    if (!config || !wasi) return 1;
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-W") == 0) {
            err = weft_config_set_wasm_features(config, argv[i + 1], strlen(argv[i + 1]));
        } else if (strcmp(argv[i], "--dir") == 0) {
            const char *spec = argv[i + 1], *sep = strstr(spec, "::");
            if (!sep) {
                fprintf(stderr, "test_real_programs: --dir needs HOST::GUEST\n");
                goto done;
            }
            err = weft_wasi_config_preopen_dir(wasi, spec, (size_t)(sep - spec), sep + 2,
                                               strlen(sep + 2), 0);
        } else {
            break;
        }
        if (err) {
            status = fail(argv[i], err);
            goto done;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: test_real_programs [-W SPEC] [--dir HOST::GUEST]... FILE.wasm [ARGS...]\n");
        goto done;
    }
    for (int k = i; k < argc; k++)
        if ((err = weft_wasi_config_push_arg(wasi, argv[k], strlen(argv[k])))) {
            status = fail("argument", err);
            goto done;
        }
    if ((err = weft_engine_new(config, &engine))) {
        status = fail("engine", err);
        goto done;
    }
    if ((err = weft_module_new_file(engine, argv[i], strlen(argv[i]), &module))) {
        status = fail(argv[i], err);
        goto done;
    }
    if ((err = weft_instance_new(module, wasi, NULL, &instance))) {
        status = fail(argv[i], err);
        goto done;
    }
    err = weft_instance_run(instance, &code);
    status = err ? fail("run", err) : (int)(code & 0xff);
done:
    fflush(stdout);
    weft_instance_delete(instance);
    weft_module_delete(module);
    weft_engine_delete(engine);
    weft_wasi_config_delete(wasi);
    weft_config_delete(config);
    return status;
}
