/* Tiny test helpers shared by the C tests (C99, public header only). */
#ifndef WEFT_CHECK_H
#define WEFT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* Fails unless err is NULL; prints the error otherwise. */
#define CHECK_OK(expr) check_ok_((expr), #expr, __FILE__, __LINE__)
static inline void check_ok_(weft_error_t *err, const char *what, const char *file, int line)
{
    if (err) {
        fprintf(stderr, "%s:%d: %s failed: kind %u: %s\n", file, line, what,
                (unsigned)weft_error_kind(err), weft_error_message(err));
        weft_error_delete(err);
        exit(1);
    }
}

/* Fails unless err is an error of the given kind; frees it. */
#define CHECK_ERR(expr, kind) check_err_((expr), (kind), #expr, __FILE__, __LINE__)
static inline void check_err_(weft_error_t *err, unsigned kind, const char *what, const char *file, int line)
{
    if (!err) {
        fprintf(stderr, "%s:%d: %s succeeded, expected error kind %u\n", file, line, what, kind);
        exit(1);
    }
    if (weft_error_kind(err) != kind) {
        fprintf(stderr, "%s:%d: %s: error kind %u, expected %u: %s\n", file, line, what,
                (unsigned)weft_error_kind(err), kind, weft_error_message(err));
        exit(1);
    }
    if (weft_error_message(err)[0] == 0) {
        fprintf(stderr, "%s:%d: %s: empty error message\n", file, line, what);
        exit(1);
    }
    weft_error_delete(err);
}

/* Path of a WAT guest in the source tree, or a built guest in the build tree. */
static inline const char *guest_path(const char *name)
{
    static char buf[4096];
    const char *dir = strstr(name, ".wat") ? WEFT_TEST_SRC_GUESTS : WEFT_TEST_BIN_GUESTS;
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static inline weft_module_t *load_guest(const weft_engine_t *engine, const char *name)
{
    weft_module_t *module = NULL;
    const char *path = guest_path(name);
    CHECK_OK(weft_module_new_file(engine, path, strlen(path), &module));
    return module;
}

static inline weft_engine_t *new_engine(const weft_config_t *config)
{
    weft_engine_t *engine = NULL;
    CHECK_OK(weft_engine_new(config, &engine));
    return engine;
}

/* Captured stdout (or stderr) as a NUL-terminated malloc'd string. */
static inline char *captured(const weft_instance_t *inst, int fd)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char *s;
    CHECK_OK(fd == 1 ? weft_instance_stdout(inst, &data, &len) : weft_instance_stderr(inst, &data, &len));
    s = malloc(len + 1);
    CHECK(s != NULL);
    if (len) memcpy(s, data, len);
    s[len] = 0;
    weft_bytes_free(data, len);
    return s;
}

static inline weft_wasi_config_t *capturing_wasi(void)
{
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    CHECK(wasi != NULL);
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 1, WEFT_STDIO_CAPTURE, NULL, 0));
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 2, WEFT_STDIO_CAPTURE, NULL, 0));
    return wasi;
}

#endif
