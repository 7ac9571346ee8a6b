/* Preopened directories: a wasi-libc guest reads and writes in a preopen,
 * cannot change a read-only one, and sees nothing else of the host. */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
    static char buf[256];
    char path[512];
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "r");
    if (!f) return NULL;
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void rm(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
}

static void run_guest(const char *wasm, const char *data, const char *ro, const char *want_stdout)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, wasm);
    weft_wasi_config_t *wasi = capturing_wasi();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    char *out;
    CHECK_OK(weft_wasi_config_push_arg(wasi, wasm, strlen(wasm)));
    CHECK_OK(weft_wasi_config_preopen_dir(wasi, data, strlen(data), "/data", 5, 0));
    CHECK_OK(weft_wasi_config_preopen_dir(wasi, data, strlen(data), "/sandbox", 8, 0));
    CHECK_OK(weft_wasi_config_preopen_dir(wasi, ro, strlen(ro), "/ro", 3, WEFT_DIR_READ_ONLY));
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    out = captured(inst, 1);
    if (code != 0 || strcmp(out, want_stdout) != 0) {
        char *err = captured(inst, 2);
        fprintf(stderr, "%s: exit %d\nstdout: %s\nstderr: %s\n", wasm, (int)code, out, err);
        exit(1);
    }
    free(out);
    weft_instance_delete(inst);
    weft_wasi_config_delete(wasi);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("%s ok\n", wasm);
}

int main(void)
{
    char data[] = "/tmp/weft-preopen-XXXXXX", ro[] = "/tmp/weft-preopen-ro-XXXXXX";
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_engine_t *engine;
    weft_module_t *module;
    weft_instance_t *inst = NULL;
    const char *missing = "/nonexistent/weft/dir";

    CHECK(mkdtemp(data) && mkdtemp(ro));
    write_file(data, "in.txt", "hello, weft\n");
    write_file(ro, "readme.txt", "read me\n");

    run_guest("files.wasm", data, ro, "files ok\n");
    CHECK(strcmp(read_file(data, "out.txt"), "HELLO, WEFT\n") == 0);
    CHECK(read_file(ro, "new.txt") == NULL);

    /* The WASI engineer's directory guest (c-tests/guests/wasi/dirs.c). */
    run_guest("wasi_dirs.wasm", data, ro, "dirs ok\n");

    /* Bad preopens: rejected at once, or when the instance is created. */
    CHECK_ERR(weft_wasi_config_preopen_dir(wasi, "", 0, "/x", 2, 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_preopen_dir(wasi, data, strlen(data), "/x", 2, 77), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_preopen_dir(wasi, "\xff", 1, "/x", 2, 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_preopen_dir(NULL, data, strlen(data), "/x", 2, 0), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_OK(weft_wasi_config_preopen_dir(wasi, missing, strlen(missing), "/x", 2, 0));
    engine = new_engine(NULL);
    module = load_guest(engine, "files.wasm");
    CHECK_ERR(weft_instance_new(module, wasi, NULL, &inst), WEFT_ERROR_IO);
    CHECK(inst == NULL);
    weft_module_delete(module);
    weft_engine_delete(engine);
    weft_wasi_config_delete(wasi);

    rm(data, "in.txt");
    rm(data, "out.txt");
    rm(ro, "readme.txt");
    CHECK(rmdir(data) == 0);
    CHECK(rmdir(ro) == 0);
    return 0;
}
