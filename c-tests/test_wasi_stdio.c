/* WASI stdio: captured stdout/stderr from many threads, stdin bytes, stdout
 * to a host file, and args/env seen by a wasi-libc guest. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <unistd.h>

#include "check.h"

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void threads_capture(void)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "stdio_threads.wat");
    weft_wasi_config_t *wasi = capturing_wasi();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    char *out, *err, *lines[16], *save = NULL;
    int n = 0;
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);
    out = captured(inst, 1);
    err = captured(inst, 2);
    CHECK(strcmp(err, "main\n") == 0);
    CHECK(strlen(out) == 8 * 9);
    for (char *l = strtok_r(out, "\n", &save); l && n < 16; l = strtok_r(NULL, "\n", &save)) lines[n++] = l;
    CHECK(n == 8);
    qsort(lines, (size_t)n, sizeof lines[0], cmp_lines);
    for (int i = 0; i < 8; i++) {
        char want[16];
        snprintf(want, sizeof want, "thread %d", i);
        CHECK(strcmp(lines[i], want) == 0);
    }
    free(out);
    free(err);
    weft_instance_delete(inst);
    weft_wasi_config_delete(wasi);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("threads_capture ok\n");
}

/* The WASI engineer's env guest (c-tests/guests/wasi/env.c): args, env,
 * clocks, random, poll, stdin; it prints "env ok" and "to stderr". */
static void libc_env_guest(void)
{
#ifdef WEFT_HAVE_LIBC_GUESTS
    static const char input[] = "line one\nline two\n";
    static const char *args[] = {"env.wasm", "one", "two words"};
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "wasi_env.wasm");
    weft_wasi_config_t *wasi = capturing_wasi();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    char *out, *err, path[64];
    FILE *f;
    for (int i = 0; i < 3; i++) CHECK_OK(weft_wasi_config_push_arg(wasi, args[i], strlen(args[i])));
    CHECK_OK(weft_wasi_config_push_env(wasi, "WEFT_A", 6, "1", 1));
    CHECK_OK(weft_wasi_config_push_env(wasi, "WEFT_B", 6, "x=y", 3));
    CHECK_OK(weft_wasi_config_set_stdin_bytes(wasi, (const uint8_t *)input, strlen(input)));
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    out = captured(inst, 1);
    err = captured(inst, 2);
    if (code != 0 || strcmp(out, "env ok\n") != 0 || strcmp(err, "to stderr\n") != 0) {
        fprintf(stderr, "env guest: exit %d\nstdout: %s\nstderr: %s\n", (int)code, out, err);
        exit(1);
    }
    free(out);
    free(err);
    weft_instance_delete(inst);

    /* The same guest with stdout to a host file and stderr discarded. */
    snprintf(path, sizeof path, "weft-stdio-%ld.txt", (long)getpid());
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 1, WEFT_STDIO_FILE, path, strlen(path)));
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 2, WEFT_STDIO_NULL, NULL, 0));
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);
    weft_instance_delete(inst);
    f = fopen(path, "r");
    CHECK(f != NULL);
    {
        char buf[64] = {0};
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        CHECK(n == 7 && strcmp(buf, "env ok\n") == 0);
    }
    fclose(f);
    remove(path);
    weft_wasi_config_delete(wasi);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("libc_env_guest ok\n");
#else
    printf("libc_env_guest skipped (no wasi-libc)\n");
#endif
}

/* A guest writing to a pipe nobody reads gets EPIPE; the host process,
 * whose SIGPIPE disposition is the default (terminate), lives on. */
static void broken_pipe(void)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "write_stdout.wat");
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    int fds[2];
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    CHECK(pipe(fds) == 0);
    CHECK_OK(weft_wasi_config_set_stdio_fd(wasi, 1, fds[1]));
    CHECK(close(fds[0]) == 0 && close(fds[1]) == 0);
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 64); /* WASI's EPIPE */
    weft_instance_delete(inst);
    weft_wasi_config_delete(wasi);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("broken_pipe ok\n");
}

int main(void)
{
    threads_capture();
    broken_pipe();
    libc_env_guest();
    return 0;
}
