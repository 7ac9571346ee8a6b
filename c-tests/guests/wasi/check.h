/* Tiny assertion helpers for the WASI test guests. */
#ifndef WEFT_WASI_CHECK_H
#define WEFT_WASI_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d: %s)\n",      \
                    __FILE__, __LINE__, #cond, errno, strerror(errno));      \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* `call` must fail with errno `want`. */
#define CHECK_ERRNO(call, want)                                              \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(call);                                              \
        if (r_ != -1 || errno != (want)) {                                   \
            fprintf(stderr, "%s:%d: %s returned %ld errno %d (%s), "         \
                            "wanted errno %d (%s)\n",                        \
                    __FILE__, __LINE__, #call, r_, errno, strerror(errno),   \
                    (want), strerror(want));                                 \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
