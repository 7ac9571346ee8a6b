/* weft-run: run a WebAssembly program (threaded or not) with weft.
 *
 * Uses only the public C API in weft.h. See usage() for options and exit
 * statuses. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

/* Exit statuses of weft-run itself (a guest's own exit code passes through). */
#define EXIT_LOAD_ERROR 1  /* cannot read, compile, link or instantiate */
#define EXIT_USAGE 2       /* bad command line */
#define EXIT_RACES 66      /* --detect-races=fail found a data race (as ThreadSanitizer) */
#define EXIT_TIMEOUT 124   /* --timeout expired (as timeout(1)) */
#define EXIT_DEADLOCK 125  /* every guest thread waits forever (WEFT_ERROR_DEADLOCK) */
#define EXIT_INTERRUPT 130 /* interrupted */
#define EXIT_TRAP 134      /* a guest thread trapped (as Wasmtime) */

static const char *prog = "weft-run";

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: %s [OPTIONS] FILE.wasm|FILE.wat [ARGS...]\n"
        "\n"
        "Runs a WebAssembly program on weft (wasi-threads + WASI preview 1).\n"
        "ARGS are passed to the guest; its argv[0] is FILE.\n"
        "\n"
        "Options:\n"
        "  --dir HOST[::GUEST]     preopen host directory HOST as GUEST (default: HOST);\n"
        "                          repeatable\n"
        "  --dir-ro HOST[::GUEST]  the same, read-only: the guest cannot change anything\n"
        "  --env NAME=VALUE        set a guest environment variable; --env NAME copies\n"
        "                          the host's value; repeatable\n"
        "  --inherit-env           give the guest the whole host environment\n"
        "  --max-threads N         most spawned threads alive at once, besides main (default 1024)\n"
        "  --parallelism N|host|none\n"
        "                          tell the guest's thread pools how many threads to\n"
        "                          start: RAYON_NUM_THREADS and OMP_NUM_THREADS, each\n"
        "                          unless --env/--inherit-env sets it; host (default):\n"
        "                          the CPUs this process may use (affinity, cgroup\n"
        "                          quota); at most --max-threads; none: set nothing\n"
        "  --max-memory BYTES      cap linear memory (suffixes K, M, G: KiB, MiB, GiB)\n"
        "  --timeout DURATION      stop the program after DURATION (e.g. 500ms, 2s, 1m;\n"
        "                          a bare number is seconds)\n"
        "  --cache-dir DIR         cache compiled modules in DIR (created if needed)\n"
        "                          instead of the default, $XDG_CACHE_HOME/weft or\n"
        "                          ~/.cache/weft; only use a directory no one\n"
        "                          untrusted can write\n"
        "  --no-cache              compile the module without the cache\n"
        "  --no-interrupt-wasm     leave out the stop checks that let the end of the\n"
        "                          program (or --timeout) stop threads running wasm\n"
        "                          loops: a few %% faster compute, but such a thread\n"
        "                          then runs on after the program ended; trusted\n"
        "                          guests only\n"
        "  --precise-dumps         SIGQUIT dumps also show the frames of threads in\n"
        "                          wasm code (Wasmtime epoch checks: 20-30%% slower\n"
        "                          loops); --timeout dumps always show them\n"
        "  --detect-races[=fail]   run under the data race detector (many times\n"
        "                          slower): each race found is printed to stderr;\n"
        "                          with =fail the exit status is then 66\n"
        "  --no-huge-pages         keep the guest memory on 4 KiB pages instead of\n"
        "                          asking the kernel for transparent huge pages\n"
        "  --tcplisten ADDR        preopen a TCP listener on ADDR (e.g. 127.0.0.1:8080)\n"
        "  --invoke NAME           reactor: call _initialize (if exported), then NAME\n"
        "                          with no arguments, and print its results\n"
        "  -W, --wasm NAME[=y|n][,NAME[=y|n]...]\n"
        "                          switch WebAssembly proposals, with wasmtime run's\n"
        "                          names (e.g. -W exceptions=n); defaults: those of\n"
        "                          wasmtime run 48, plus threads; -W help lists them\n"
        "  -S, --wasi threads[=y]  accepted as in wasmtime run 46 command lines: weft\n"
        "                          always runs wasi-threads (no other -S option)\n"
        "  --profile=perfmap|jitdump\n"
        "                          let perf see guest functions: /tmp/perf-PID.map, or\n"
        "                          ./jit-PID.dump for perf record -k 1 + perf inject --jit\n"
        "  --version               print weft-run's and the library's versions\n"
        "  --help                  print this help\n"
        "  --                      end of options\n",
        prog);
    /* Two strings: C99 compilers need only take 4095 characters in one. */
    fprintf(out,
        "\n"
        "Exit status:\n"
        "  the guest's exit code   proc_exit(n) from any thread, or 0 when _start returns\n"
        "  1                       the program cannot be loaded, linked or instantiated\n"
        "  2                       bad command line\n"
        "  66                      --detect-races=fail found a data race\n"
        "  124                     --timeout expired (thread dump on stderr)\n"
        "  125                     deadlock: every guest thread waits forever in\n"
        "                          atomic.wait (thread dump on stderr)\n"
        "  134                     a guest thread trapped or threw an exception no\n"
        "                          try_table caught (message, thread id and backtrace\n"
        "                          on stderr)\n"
        "\n"
        "SIGQUIT (Ctrl-\\) prints a thread dump to stderr; the program keeps running.\n");
}

/* Prints every data race the detector found to stderr; returns how many. */
static size_t print_races(const weft_instance_t *inst)
{
    size_t n = weft_instance_race_count(inst);
    for (size_t i = 0; i < n; i++) {
        uint8_t *text = NULL;
        size_t len = 0;
        weft_error_t *err = weft_instance_race_report(inst, i, &text, &len);
        if (err) {
            weft_error_delete(err);
            continue;
        }
        fprintf(stderr, "%s: %.*s\n", prog, (int)len, (const char *)text);
        weft_bytes_free(text, len);
    }
    double shadow = (double)weft_instance_race_shadow_bytes(inst) / (1 << 20);
    double guest = (double)weft_instance_memory_size(inst) / (1 << 20);
    if (weft_instance_race_shadow_bytes(inst) == 0) {
        fprintf(stderr, "%s: no shared memory: no data race to look for\n", prog);
        return 0;
    }
    if (n > 0) fprintf(stderr, "%s: %zu data race%s found", prog, n, n == 1 ? "" : "s");
    else fprintf(stderr, "%s: no data race found", prog);
    fprintf(stderr, " (race detector shadow memory %.1f MiB, guest memory %.1f MiB)\n", shadow, guest);
    return n;
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return EXIT_USAGE;
}

/* Parses an unsigned integer with an optional binary suffix (K, M, G). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1024ull, end++;
    else if (*end == 'M' || *end == 'm') mul = 1024ull * 1024, end++;
    else if (*end == 'G' || *end == 'g') mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'i' || *end == 'B') end += (end[0] == 'i' && end[1] == 'B') ? 2 : (end[0] == 'B');
    if (*end) return -1;
    if (v > UINT64_MAX / mul) return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

/* Parses a plain decimal number (digits only). */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Parses a duration: a number with unit ms, s or m (bare: seconds). */
static int parse_duration_ms(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    uint64_t mul;
    if (strcmp(end, "ms") == 0) mul = 1;
    else if (strcmp(end, "s") == 0 || *end == 0) mul = 1000;
    else if (strcmp(end, "m") == 0) mul = 60000;
    else return -1;
    if (v > UINT64_MAX / mul) return -1;
    *ms = (uint64_t)v * mul;
    return *ms ? 0 : -1;
}

/* -W/--wasm and -S/--wasi as wasmtime run takes them: "-W x", "-Wx",
 * "--wasm x", "--wasm=x". Returns the value ("" when it is missing), or
 * NULL when `a` is not this option; sets *takes_value when it is `val`. */
static const char *flag_value(const char *a, const char *val, char letter, const char *name,
                              int *takes_value)
{
    size_t n = strlen(name);
    const char *inline_value;
    if (a[0] == '-' && a[1] == letter)
        inline_value = a[2] ? a + 2 : NULL;
    else if (strncmp(a, name, n) == 0 && (a[n] == 0 || a[n] == '='))
        inline_value = a[n] == '=' ? a + n + 1 : NULL;
    else
        return NULL; /* not this option: *takes_value untouched */
    *takes_value = inline_value == NULL;
    if (inline_value) return inline_value;
    return val ? val : "";
}

/* -W help: the switches, their defaults and how to change them. */
static void print_wasm_features(void)
{
    weft_config_t *defaults = weft_config_new();
    const char *names = weft_wasm_feature_names();
    printf("WebAssembly proposals (-W NAME=y|n[,NAME=y|n...]; default in brackets):\n");
    while (defaults && *names) {
        size_t len = strcspn(names, ",");
        bool on = false;
        weft_error_t *err = weft_config_wasm_feature(defaults, names, len, &on);
        weft_error_delete(err);
        if (len != strlen("all-proposals") || strncmp(names, "all-proposals", len) != 0)
            printf("  %-22.*s [%s]%s\n", (int)len, names, on ? "y" : "n",
                   (len == 7 && !strncmp(names, "threads", 7)) ||
                           (len == 13 && !strncmp(names, "shared-memory", 13))
                       ? " (always: weft runs wasi-threads)"
                       : "");
        names += len + (names[len] == ',');
    }
    printf("  %-22s every proposal above (n: all but threads and shared-memory)\n", "all-proposals");
    weft_config_delete(defaults);
}

/* -S: only `threads` (also `threads=y`), which weft always provides: what
 * wasmtime run 46 command lines pass for wasi-threads guests. Returns 0, or
 * prints why not and returns -1. */
static int wasi_option(const char *spec)
{
    while (*spec) {
        size_t len = strcspn(spec, ",");
        if (len == 7 && strncmp(spec, "threads", 7) == 0) {
            /* accepted */
        } else if (len > 8 && strncmp(spec, "threads=", 8) == 0) {
            const char *v = spec + 8;
            size_t vl = len - 8;
            if ((vl == 1 && *v == 'y') || (vl == 3 && !strncmp(v, "yes", 3)) ||
                (vl == 4 && !strncmp(v, "true", 4))) {
                /* accepted */
            } else {
                fprintf(stderr, "%s: -S %.*s: weft always runs wasi-threads; only -S threads=y is "
                        "accepted (try --help)\n", prog, (int)len, spec);
                return -1;
            }
        } else {
            fprintf(stderr, "%s: unknown -S option \"%.*s\": weft-run accepts only -S threads "
                    "(WASI settings are --dir, --env, --inherit-env and --tcplisten; try --help)\n",
                    prog, (int)len, spec);
            return -1;
        }
        spec += len + (spec[len] == ',');
    }
    return 0;
}

/* Reports a weft error as one line (load errors). Frees it. */
static int load_error(const char *what, weft_error_t *err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, weft_error_message(err));
    weft_error_delete(err);
    return EXIT_LOAD_ERROR;
}

/* Reports how a program ended with an error; returns the exit status. Frees it. */
static int run_error(weft_error_t *err)
{
    int status;
    uint32_t tid;
    int32_t code;
    switch (weft_error_kind(err)) {
    case WEFT_ERROR_TRAP:
        if (weft_error_trap_tid(err, &tid))
            fprintf(stderr, "%s: guest thread %u trapped\n", prog, (unsigned)tid);
        fprintf(stderr, "Error: %s\n", weft_error_message(err));
        if (*weft_error_backtrace(err) && !strstr(weft_error_message(err), weft_error_backtrace(err)))
            fprintf(stderr, "wasm backtrace:\n%s\n", weft_error_backtrace(err));
        status = EXIT_TRAP;
        break;
    case WEFT_ERROR_DEADLOCK:
        fprintf(stderr, "%s: %s\n", prog, weft_error_message(err));
        status = EXIT_DEADLOCK;
        break;
    case WEFT_ERROR_TIMED_OUT:
        fprintf(stderr, "%s: %s\n", prog, weft_error_message(err));
        status = EXIT_TIMEOUT;
        break;
    case WEFT_ERROR_INTERRUPTED:
        fprintf(stderr, "%s: %s\n", prog, weft_error_message(err));
        status = EXIT_INTERRUPT;
        break;
    case WEFT_ERROR_EXITED:
        status = weft_error_exit_code(err, &code) ? (int)(code & 0xff) : 1;
        break;
    case WEFT_ERROR_NOT_FOUND:
    case WEFT_ERROR_LINK:
    case WEFT_ERROR_INSTANTIATE:
        fprintf(stderr, "%s: %s\n", prog, weft_error_message(err));
        status = EXIT_LOAD_ERROR;
        break;
    default:
        fprintf(stderr, "%s: %s\n", prog, weft_error_message(err));
        status = EXIT_LOAD_ERROR;
        break;
    }
    weft_error_delete(err);
    return status;
}

/* Splits "HOST::GUEST" (GUEST defaults to HOST) and preopens it. */
static weft_error_t *add_dir(weft_wasi_config_t *wasi, const char *spec, uint32_t flags)
{
    const char *sep = strstr(spec, "::");
    size_t host_len = sep ? (size_t)(sep - spec) : strlen(spec);
    const char *guest = sep ? sep + 2 : spec;
    size_t guest_len = sep ? strlen(guest) : host_len;
    return weft_wasi_config_preopen_dir(wasi, spec, host_len, guest, guest_len, flags);
}

/* --- The watcher: SIGQUIT and --timeout print a thread dump ---------------
 *
 * The SIGQUIT handler only writes a byte to a pipe (async-signal-safe); the
 * watcher thread polls that pipe, the instance's completion fd and the
 * --timeout deadline. On 'q' it prints a dump and keeps watching; at the
 * deadline it interrupts the program (reported as a timeout) and prints the
 * final dump: every thread as the end stopped it, with its frames (those of
 * threads running wasm code too); 'x' (from main) or the completion fd ends
 * it. */
struct watcher {
    weft_instance_t *inst;
    uint64_t timeout_ms; /* 0: none */
    int wake[2];         /* self-pipe: 'q' = SIGQUIT, 'x' = stop */
    int done_fd;         /* readable once the outcome is decided */
    volatile int timed_out;
    pthread_t thread;
    int running;
    pthread_mutex_t dumping; /* held while a dump prints */
};

static int sigquit_fd = -1;

static void on_sigquit(int sig)
{
    int saved = errno;
    ssize_t n = write(sigquit_fd, "q", 1);
    (void)n;
    (void)sig;
    errno = saved;
}

static void print_dump(const weft_instance_t *inst, const char *why)
{
    weft_thread_list_t *list = NULL;
    weft_error_t *err = weft_instance_dump(inst, &list);
    if (err) {
        fprintf(stderr, "%s: %s; no thread dump: %s\n", prog, why, weft_error_message(err));
        weft_error_delete(err);
        return;
    }
    fprintf(stderr, "%s: %s\n%s", prog, why, weft_thread_list_text(list));
    fflush(stderr);
    weft_thread_list_delete(list);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *watch(void *arg)
{
    struct watcher *w = arg;
    uint64_t deadline = w->timeout_ms ? now_ms() + w->timeout_ms : 0;
    for (;;) {
        struct pollfd fds[2] = {{w->wake[0], POLLIN, 0}, {w->done_fd, POLLIN, 0}};
        int wait_ms = -1;
        if (deadline) {
            uint64_t now = now_ms();
            if (now >= deadline) {
                w->timed_out = 1;
                weft_instance_interrupt(w->inst);
                pthread_mutex_lock(&w->dumping);
                print_dump(w->inst, "--timeout expired; the threads were doing this:");
                pthread_mutex_unlock(&w->dumping);
                return NULL;
            }
            wait_ms = (int)(deadline - now > 60000 ? 60000 : deadline - now);
        }
        int n = poll(fds, w->done_fd >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno != EINTR) return NULL;
        if (n > 0 && (fds[1].revents & POLLIN)) return NULL;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            char c = 0;
            if (read(w->wake[0], &c, 1) == 1) {
                if (c == 'x') return NULL;
                pthread_mutex_lock(&w->dumping);
                print_dump(w->inst, "SIGQUIT: thread dump (the program keeps running)");
                pthread_mutex_unlock(&w->dumping);
            }
        }
    }
}

static void watch_stop(struct watcher *w);

/* Starts watching `inst`; returns 0 or -1 (then nothing is watched). */
static int watch_start(struct watcher *w, weft_instance_t *inst, uint64_t timeout_ms)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->dumping, NULL);
    w->inst = inst;
    w->timeout_ms = timeout_ms;
    w->done_fd = -1;
    if (pipe(w->wake)) return -1;
    weft_error_t *err = weft_instance_completion_fd(inst, &w->done_fd);
    if (err) {
        weft_error_delete(err);
        w->done_fd = -1;
    }
    sigquit_fd = w->wake[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigquit;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, NULL);
    if (pthread_create(&w->thread, NULL, watch, w)) {
        watch_stop(w);
        return -1;
    }
    w->running = 1;
    return 0;
}

/* Lets the watcher finish what it is doing (the --timeout dump) and end, so
 * that its output comes before the outcome's. */
static void watch_join(struct watcher *w)
{
    if (w && w->running) {
        ssize_t n = write(w->wake[1], "x", 1);
        (void)n;
        pthread_join(w->thread, NULL);
        w->running = 0;
    }
}

static void watch_stop(struct watcher *w)
{
    watch_join(w);
    signal(SIGQUIT, SIG_DFL);
    sigquit_fd = -1;
    close(w->wake[0]);
    close(w->wake[1]);
    pthread_mutex_destroy(&w->dumping);
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!f || !buf) {
        if (f) fclose(f);
        free(buf);
        return -1;
    }
    for (;;) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) break;
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* The default cache directory: $XDG_CACHE_HOME/weft, else $HOME/.cache/weft
 * (the XDG base directory rules: relative or empty values are ignored).
 * Leaves *out empty (no cache) when neither is usable. */
static void default_cache_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    out[0] = 0;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/weft", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, size, "%s/.cache/weft", home);
    else
        return;
    if (n < 0 || (size_t)n >= size) out[0] = 0;
}

static void print_val(const weft_val_t *v)
{
    switch (v->kind) {
    case WEFT_I32: printf("%ld\n", (long)v->of.i32); break;
    case WEFT_I64: printf("%lld\n", (long long)v->of.i64); break;
    case WEFT_F32: printf("%.9g\n", (double)v->of.f32); break;
    case WEFT_F64: printf("%.17g\n", v->of.f64); break;
    default: printf("?\n"); break;
    }
}

/* Runs _start and, once the outcome is an exit or a trap, ends the process
 * at once, as a native program's exit does: _exit ends the guest threads
 * still on their way to a stop check in the kernel instead of unwinding each
 * of them (1,000 spinning threads: tens of ms saved). The guest's output is
 * not buffered in the library, and its files are the kernel's to close. An
 * interrupt, a timeout or a deadlock takes the full path (weft_instance_wait:
 * their dumps show every thread as the end stopped it). */
static weft_error_t *run_ending_at_once(weft_instance_t *inst, struct watcher *w, int32_t *code)
{
    bool finished = false;
    int done_fd = -1;
    weft_error_t *err = weft_instance_completion_fd(inst, &done_fd);
    if (err) return err;
    if ((err = weft_instance_start(inst))) return err;
    for (;;) {
        struct pollfd p = {done_fd, POLLIN, 0};
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        bool decided = false;
        err = weft_instance_outcome(inst, &decided, code);
        if (!decided) continue;
        if (err && weft_error_kind(err) != WEFT_ERROR_TRAP) {
            weft_error_delete(err);
            break;
        }
        /* A dump in progress finishes first. Not a join: a thread's exit
         * waits for the address space's lock, which the guest threads
         * leaving at the same time hold in turn (50 ms with 1,000). */
        if (w) pthread_mutex_lock(&w->dumping);
        int status = err ? run_error(err) : (int)(*code & 0xff);
        fflush(stdout);
        fflush(stderr);
        _exit(status);
    }
    return weft_instance_wait(inst, WEFT_WAIT_FOREVER, &finished, code);
}

/* The reactor path: _initialize, then `name` with no arguments. `w` (or
 * NULL) is joined before an error is reported. */
static int invoke(weft_instance_t *inst, const weft_module_t *module, const char *name,
                  struct watcher *w)
{
    size_t nparams = 0, nresults = 0;
    weft_val_t results[16];
    weft_error_t *err = weft_module_export_func(module, name, strlen(name), NULL, 0, &nparams,
                                                NULL, 0, &nresults);
    if (err) {
        fprintf(stderr, "%s: %s\n", prog, weft_error_message(err));
        weft_error_delete(err);
        return EXIT_LOAD_ERROR;
    }
    if (nparams != 0 || nresults > sizeof results / sizeof results[0]) {
        fprintf(stderr, "%s: --invoke needs a function without parameters and at most 16 results; \"%s\" has %zu and %zu\n",
                prog, name, nparams, nresults);
        return EXIT_LOAD_ERROR;
    }
    err = weft_instance_initialize(inst);
    if (err) watch_join(w);
    if (err) return run_error(err);
    err = weft_instance_call(inst, name, strlen(name), NULL, 0, results, nresults);
    if (err) watch_join(w);
    if (err) return run_error(err);
    for (size_t i = 0; i < nresults; i++) print_val(&results[i]);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    weft_config_t *config = weft_config_new();
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_engine_t *engine = NULL;
    weft_module_t *module = NULL;
    weft_instance_t *inst = NULL;
    weft_error_t *err = NULL;
    const char *invoke_name = NULL;
    int detect_races = 0, races_fail = 0;
    /* NULL: the default directory; "": no cache; else --cache-dir's value. */
    const char *cache_dir = NULL;
    char default_dir[4096];
    uint64_t timeout_ms = 0;
    struct watcher watcher;
    uint8_t *wasm = NULL;
    size_t wasm_len = 0;
    int status = 0, i;
    const char *spec; /* the value of -W or -S */

    if (!config || !wasi) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_LOAD_ERROR;
    }
    /* Guests learn how many CPUs they may use unless --parallelism says otherwise. */
    if ((err = weft_wasi_config_set_parallelism(wasi, WEFT_PARALLELISM_HOST, 0))) {
        status = load_error("parallelism", err);
        err = NULL;
        goto done;
    }
    /* Options come first; the first other argument is the file. */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 1;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == 0) break;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            goto done;
        }
        if (strcmp(a, "--version") == 0) {
            printf("weft-run %s (libweft %s)\n", WEFT_VERSION_STRING, weft_version());
            goto done;
        }
        if (strncmp(a, "--profile", 9) == 0 && (a[9] == '=' || (a[9] == 0 && val))) {
            const char *p = a[9] == '=' ? a + 10 : val;
            uint32_t profiler;
            takes_value = a[9] == 0;
            if (strcmp(p, "perfmap") == 0) profiler = WEFT_PROFILER_PERFMAP;
            else if (strcmp(p, "jitdump") == 0) profiler = WEFT_PROFILER_JITDUMP;
            else {
                status = usage_error("--profile needs perfmap or jitdump, not \"%s\"", p);
                goto done;
            }
            err = weft_config_set_profiler(config, profiler);
        } else if (strcmp(a, "--inherit-env") == 0) {
            err = weft_wasi_config_inherit_env(wasi);
            takes_value = 0;
        } else if (strcmp(a, "--no-interrupt-wasm") == 0) {
            err = weft_config_set_interrupt_wasm(config, false);
            takes_value = 0;
        } else if (strcmp(a, "--precise-dumps") == 0) {
            err = weft_config_set_precise_dumps(config, true);
            takes_value = 0;
        } else if (strcmp(a, "--detect-races") == 0 || strcmp(a, "--detect-races=fail") == 0) {
            err = weft_config_set_detect_races(config, true);
            races_fail = a[14] == '=';
            detect_races = 1;
            takes_value = 0;
        } else if (strcmp(a, "--no-huge-pages") == 0) {
            err = weft_config_set_huge_pages(config, false);
            takes_value = 0;
        } else if (strcmp(a, "--no-cache") == 0) {
            cache_dir = "";
            takes_value = 0;
        } else if ((spec = flag_value(a, val, 'W', "--wasm", &takes_value))) {
            if (!*spec) {
                status = usage_error("option %s needs a value such as exceptions=n", a);
                goto done;
            }
            if (strcmp(spec, "help") == 0) {
                print_wasm_features();
                goto done;
            }
            err = weft_config_set_wasm_features(config, spec, strlen(spec));
            val = spec;
        } else if ((spec = flag_value(a, val, 'S', "--wasi", &takes_value))) {
            if (!*spec) {
                status = usage_error("option %s needs a value such as threads", a);
                goto done;
            }
            if (wasi_option(spec)) {
                status = EXIT_USAGE;
                goto done;
            }
        } else if (strcmp(a, "--dir") != 0 && strcmp(a, "--dir-ro") != 0 && strcmp(a, "--env") != 0 &&
                   strcmp(a, "--max-threads") != 0 && strcmp(a, "--max-memory") != 0 &&
                   strcmp(a, "--timeout") != 0 && strcmp(a, "--tcplisten") != 0 &&
                   strcmp(a, "--invoke") != 0 && strcmp(a, "--cache-dir") != 0 &&
                   strcmp(a, "--parallelism") != 0) {
            status = usage_error("unknown option %s", a);
            goto done;
        } else if (!val) {
            status = usage_error("option %s needs a value", a);
            goto done;
        } else if (strcmp(a, "--dir") == 0 || strcmp(a, "--dir-ro") == 0) {
            err = add_dir(wasi, val, strcmp(a, "--dir-ro") == 0 ? WEFT_DIR_READ_ONLY : 0);
        } else if (strcmp(a, "--env") == 0) {
            const char *eq = strchr(val, '=');
            if (eq) {
                err = weft_wasi_config_push_env(wasi, val, (size_t)(eq - val), eq + 1, strlen(eq + 1));
            } else if (getenv(val)) {
                err = weft_wasi_config_push_env(wasi, val, strlen(val), getenv(val), strlen(getenv(val)));
            }
        } else if (strcmp(a, "--max-threads") == 0) {
            uint64_t n;
            if (parse_size(val, &n) || n == 0 || n > UINT32_MAX) {
                status = usage_error("--max-threads needs a positive number, not \"%s\"", val);
                goto done;
            }
            err = weft_config_set_max_threads(config, (uint32_t)n);
        } else if (strcmp(a, "--parallelism") == 0) {
            uint64_t n;
            if (strcmp(val, "none") == 0) {
                err = weft_wasi_config_set_parallelism(wasi, WEFT_PARALLELISM_NONE, 0);
            } else if (strcmp(val, "host") == 0) {
                err = weft_wasi_config_set_parallelism(wasi, WEFT_PARALLELISM_HOST, 0);
            } else if (parse_count(val, &n) == 0 && n <= UINT32_MAX) {
                /* 0 goes to the library, which says why it refuses it. */
                err = weft_wasi_config_set_parallelism(wasi, WEFT_PARALLELISM_FIXED, (uint32_t)n);
            } else {
                status = usage_error("--parallelism needs a number of threads, host or none, not \"%s\"", val);
                goto done;
            }
        } else if (strcmp(a, "--max-memory") == 0) {
            uint64_t n;
            if (parse_size(val, &n) || n == 0) {
                status = usage_error("--max-memory needs a positive size in bytes, not \"%s\"", val);
                goto done;
            }
            err = weft_config_set_max_memory(config, n);
        } else if (strcmp(a, "--timeout") == 0) {
            uint64_t ms;
            if (parse_duration_ms(val, &ms)) {
                status = usage_error("--timeout needs a duration such as 500ms, 2s or 1m, not \"%s\"", val);
                goto done;
            }
            /* weft-run stops the run itself at `ms`, after printing a thread
             * dump; the library's own timeout, a second later, still covers
             * the module's start function during instantiation. */
            timeout_ms = ms;
            err = weft_config_set_timeout_ms(config, ms > UINT64_MAX - 1000 ? ms : ms + 1000);
        } else if (strcmp(a, "--cache-dir") == 0) {
            if (!val[0]) {
                status = usage_error("--cache-dir needs a directory%s", "");
                goto done;
            }
            cache_dir = val;
        } else if (strcmp(a, "--tcplisten") == 0) {
            err = weft_wasi_config_preopen_tcp_listener(wasi, val, strlen(val));
        } else if (strcmp(a, "--invoke") == 0) {
            invoke_name = val;
        }
        if (err) {
            /* An option value weft refused: a usage error, unless it is I/O. */
            uint32_t kind = weft_error_kind(err);
            fprintf(stderr, "%s: %s %s: %s\n", prog, a, takes_value ? val : "", weft_error_message(err));
            weft_error_delete(err);
            err = NULL;
            status = kind == WEFT_ERROR_IO ? EXIT_LOAD_ERROR : EXIT_USAGE;
            goto done;
        }
        if (takes_value) i++;
    }
    if (i >= argc) {
        status = usage_error("missing %s", "FILE.wasm|FILE.wat");
        goto done;
    }

    if (cache_dir) {
        if ((err = weft_config_set_cache_dir(config, cache_dir, strlen(cache_dir)))) {
            fprintf(stderr, "%s: --cache-dir %s: %s\n", prog, cache_dir, weft_error_message(err));
            weft_error_delete(err);
            err = NULL;
            status = EXIT_USAGE;
            goto done;
        }
    } else {
        /* A default the library cannot use (say, not UTF-8) means no cache. */
        default_cache_dir(default_dir, sizeof default_dir);
        weft_error_delete(weft_config_set_cache_dir(config, default_dir, strlen(default_dir)));
    }

    const char *file = argv[i];
    for (int k = i; k < argc; k++) {
        if ((err = weft_wasi_config_push_arg(wasi, argv[k], strlen(argv[k])))) {
            status = load_error("argument", err);
            goto done;
        }
    }
    if (read_file(file, &wasm, &wasm_len)) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, file, strerror(errno));
        status = EXIT_LOAD_ERROR;
        goto done;
    }
    if ((err = weft_engine_new(config, &engine))) {
        /* Options that do not fit together (-W simd=n with relaxed-simd on)
         * are a bad command line. */
        int usage = weft_error_kind(err) == WEFT_ERROR_INVALID_ARGUMENT;
        status = load_error("engine", err);
        if (usage) status = EXIT_USAGE;
        goto done;
    }
    if ((err = weft_module_new(engine, wasm, wasm_len, &module))) {
        status = load_error(file, err);
        goto done;
    }
    if ((err = weft_instance_new(module, wasi, NULL, &inst))) {
        status = load_error(file, err);
        goto done;
    }
    int watching = watch_start(&watcher, inst, timeout_ms) == 0;
    if (invoke_name) {
        status = invoke(inst, module, invoke_name, watching ? &watcher : NULL);
        if (status == EXIT_INTERRUPT && watching && watcher.timed_out) status = EXIT_TIMEOUT;
    } else {
        int32_t code = 0;
        /* Without the race summary to print after the end, an exit or a
         * trap ends the process at once (end_at_once does not return then). */
        err = detect_races ? weft_instance_run(inst, &code)
                           : run_ending_at_once(inst, watching ? &watcher : NULL, &code);
        if (err && watching) watch_join(&watcher);
        if (err && watching && watcher.timed_out && weft_error_kind(err) == WEFT_ERROR_INTERRUPTED) {
            fprintf(stderr, "%s: the program ran past its timeout\n", prog);
            weft_error_delete(err);
            status = EXIT_TIMEOUT;
        } else {
            status = err ? run_error(err) : (int)(code & 0xff);
        }
    }
    fflush(stdout);
    if (watching) watch_stop(&watcher);
    if (detect_races && print_races(inst) > 0 && races_fail) status = EXIT_RACES;

done:
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    weft_wasi_config_delete(wasi);
    weft_config_delete(config);
    free(wasm);
    return status;
}
