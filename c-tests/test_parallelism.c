/* The parallelism hint (weft_wasi_config_set_parallelism): RAYON_NUM_THREADS
 * and OMP_NUM_THREADS where the configured environment lacks them, the
 * host's CPUs (weft_host_parallelism) or a fixed number, capped by the
 * thread limit; nothing by default. Then weft-run's default (the host's
 * number, which a rayon guest's global pool takes) and its usage errors.
 *
 * Usage: test_parallelism [WEFT_RUN [RAYON_DEFAULT_WASM]] */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* What print_env.wat prints under `config` (may be NULL) and `wasi`; malloc'd. */
static char *guest_env(const weft_config_t *config, weft_wasi_config_t *wasi)
{
    weft_engine_t *engine = new_engine(config);
    weft_module_t *module = load_guest(engine, "print_env.wat");
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 1, WEFT_STDIO_CAPTURE, NULL, 0));
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);
    char *out = captured(inst, 1);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return out;
}

static weft_wasi_config_t *with(uint32_t mode, uint32_t threads)
{
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    CHECK(wasi);
    CHECK_OK(weft_wasi_config_push_env(wasi, "A", 1, "1", 1));
    CHECK_OK(weft_wasi_config_set_parallelism(wasi, mode, threads));
    return wasi;
}

static void expect_env(const weft_config_t *config, weft_wasi_config_t *wasi, const char *want)
{
    char *out = guest_env(config, wasi);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "guest environment:\n%s\nexpected:\n%s\n", out, want);
        exit(1);
    }
    free(out);
    weft_wasi_config_delete(wasi);
}

static void expect_threads(const weft_config_t *config, weft_wasi_config_t *wasi, unsigned n)
{
    char want[128];
    snprintf(want, sizeof want, "A=1\nRAYON_NUM_THREADS=%u\nOMP_NUM_THREADS=%u\n", n, n);
    expect_env(config, wasi, want);
}

static weft_config_t *max_threads(uint32_t n)
{
    weft_config_t *config = weft_config_new();
    CHECK(config);
    CHECK_OK(weft_config_set_max_threads(config, n));
    return config;
}

static void through_the_c_api(void)
{
    unsigned host = weft_host_parallelism();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(host >= 1);
    CHECK(online < 1 || host <= (unsigned long)online);

    /* Nothing unless asked. */
    weft_wasi_config_t *plain = weft_wasi_config_new();
    CHECK_OK(weft_wasi_config_push_env(plain, "A", 1, "1", 1));
    expect_env(NULL, plain, "A=1\n");
    expect_env(NULL, with(WEFT_PARALLELISM_NONE, 0), "A=1\n");

    expect_threads(NULL, with(WEFT_PARALLELISM_FIXED, 3), 3);
    expect_threads(NULL, with(WEFT_PARALLELISM_HOST, 0), host);

    /* The thread limit caps both. */
    weft_config_t *one = max_threads(1), *two = max_threads(2);
    expect_threads(one, with(WEFT_PARALLELISM_HOST, 0), 1);
    expect_threads(two, with(WEFT_PARALLELISM_FIXED, 3), 2);
    weft_config_delete(one);
    weft_config_delete(two);

    /* The embedder's variables win, pushed or inherited. */
    weft_wasi_config_t *pushed = with(WEFT_PARALLELISM_FIXED, 3);
    CHECK_OK(weft_wasi_config_push_env(pushed, "RAYON_NUM_THREADS", 17, "1", 1));
    expect_env(NULL, pushed, "A=1\nRAYON_NUM_THREADS=1\nOMP_NUM_THREADS=3\n");
    CHECK(setenv("OMP_NUM_THREADS", "7", 1) == 0);
    weft_wasi_config_t *inherited = with(WEFT_PARALLELISM_FIXED, 3);
    CHECK_OK(weft_wasi_config_inherit_env(inherited));
    char *out = guest_env(NULL, inherited);
    CHECK(strstr(out, "\nOMP_NUM_THREADS=7\n") || strncmp(out, "OMP_NUM_THREADS=7\n", 18) == 0);
    CHECK(strstr(out, "\nRAYON_NUM_THREADS=3\n"));
    CHECK(!strstr(out, "OMP_NUM_THREADS=3"));
    free(out);
    weft_wasi_config_delete(inherited);
    CHECK(unsetenv("OMP_NUM_THREADS") == 0);

    /* Refusals: the core's rule and message for 0, the mode's encoding here. */
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_error_t *err = weft_wasi_config_set_parallelism(wasi, WEFT_PARALLELISM_FIXED, 0);
    CHECK(err && weft_error_kind(err) == WEFT_ERROR_INVALID_ARGUMENT);
    CHECK(strcmp(weft_error_message(err), "parallelism must be at least 1 thread") == 0);
    weft_error_delete(err);
    CHECK_ERR(weft_wasi_config_set_parallelism(wasi, 3, 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_set_parallelism(wasi, WEFT_PARALLELISM_HOST, 2), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_wasi_config_set_parallelism(NULL, WEFT_PARALLELISM_HOST, 0), WEFT_ERROR_NULL_ARGUMENT);
    weft_wasi_config_delete(wasi);
    printf("through_the_c_api ok (host parallelism %u)\n", host);
}

/* The CPU the child of run() is pinned to (-1: not pinned). */
static int pin_cpu = -1;

/* Runs `argv` (argv[0] the program) with stdout and stderr read into
 * `out`/`err` (malloc'd); returns the exit status. */
static int run(const char *const *argv, char **out, char **err)
{
    char paths[2][32] = {"/tmp/weft-par-out-XXXXXX", "/tmp/weft-par-err-XXXXXX"};
    int fds[2];
    for (int i = 0; i < 2; i++) CHECK((fds[i] = mkstemp(paths[i])) >= 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[0], 1);
        dup2(fds[1], 2);
        if (pin_cpu >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(pin_cpu, &one);
            if (sched_setaffinity(0, sizeof one, &one)) _exit(126);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    char **bufs[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        off_t len = lseek(fds[i], 0, SEEK_END);
        CHECK(len >= 0 && lseek(fds[i], 0, SEEK_SET) == 0);
        *bufs[i] = calloc((size_t)len + 1, 1);
        CHECK(*bufs[i] && read(fds[i], *bufs[i], (size_t)len) == (ssize_t)len);
        close(fds[i]);
        unlink(paths[i]);
    }
    return WEXITSTATUS(status);
}

static void weft_run(const char *weft_run_path, const char *rayon)
{
    unsigned host = weft_host_parallelism(); /* under weft-run's default 1024 threads */
    char want[128], *out, *err;
    const char *env_guest = guest_path("print_env.wat");

    /* The default: the host's number, in both variables. */
    const char *dflt[] = {weft_run_path, "--no-cache", env_guest, NULL};
    CHECK(run(dflt, &out, &err) == 0);
    snprintf(want, sizeof want, "RAYON_NUM_THREADS=%u\nOMP_NUM_THREADS=%u\n", host, host);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "weft-run's default gave:\n%s%s\nexpected:\n%s\n", out, err, want);
        exit(1);
    }
    free(out);
    free(err);

    /* Pinned to one CPU (taskset -c N), weft-run says 1: the number comes
     * from the affinity of the process that runs the guest. */
    cpu_set_t mine;
    CHECK(sched_getaffinity(0, sizeof mine, &mine) == 0);
    for (int cpu = 0; cpu < CPU_SETSIZE && pin_cpu < 0; cpu++)
        if (CPU_ISSET(cpu, &mine)) pin_cpu = cpu;
    CHECK(run(dflt, &out, &err) == 0);
    pin_cpu = -1;
    if (strcmp(out, "RAYON_NUM_THREADS=1\nOMP_NUM_THREADS=1\n") != 0) {
        fprintf(stderr, "weft-run pinned to one CPU gave:\n%s%s\n", out, err);
        exit(1);
    }
    free(out);
    free(err);
    printf("pinned to one CPU ok (%s)\n", host > 1 ? "host has more" : "host has only one: not telling");

    /* Usage errors exit 2: the library's message for 0, weft-run's for the rest. */
    const char *zero[] = {weft_run_path, "--parallelism", "0", env_guest, NULL};
    CHECK(run(zero, &out, &err) == 2);
    CHECK(strstr(err, "--parallelism 0: parallelism must be at least 1 thread"));
    free(out);
    free(err);
    const char *bad[][5] = {
        {weft_run_path, "--parallelism", "two", env_guest, NULL},
        {weft_run_path, "--parallelism", "-1", env_guest, NULL},
        {weft_run_path, "--parallelism", "4294967296", env_guest, NULL},
        {weft_run_path, "--parallelism", NULL, NULL, NULL}, /* no value at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(run(bad[i], &out, &err) == 2);
        CHECK(strstr(err, "--parallelism") && strstr(err, "(try --help)"));
        free(out);
        free(err);
    }
    const char *help[] = {weft_run_path, "--help", NULL};
    CHECK(run(help, &out, &err) == 0);
    CHECK(strstr(out, "--parallelism N|host|none"));
    free(out);
    free(err);
    printf("weft_run ok\n");

    if (!rayon) {
        printf("rayon_default_pool skipped (no Rust guests built)\n");
        return;
    }
    /* A rayon guest's default global pool takes the host's number, from
     * the variable (on a one-CPU host the pool size alone would not tell). */
    const char *pool[] = {weft_run_path, "--no-cache", rayon, NULL};
    CHECK(run(pool, &out, &err) == 0);
    snprintf(want, sizeof want, "RAYON_NUM_THREADS: Some(\"%u\")\n", host);
    CHECK(strstr(out, want));
    snprintf(want, sizeof want, "global pool threads: %u\n", host);
    if (!strstr(out, want)) {
        fprintf(stderr, "rayon under weft-run's default:\n%s%s\nexpected \"%s\"\n", out, err, want);
        exit(1);
    }
    free(out);
    free(err);
    printf("rayon_default_pool ok (%u threads)\n", host);
}

int main(int argc, char **argv)
{
    through_the_c_api();
    if (argc > 1) weft_run(argv[1], argc > 2 ? argv[2] : NULL);
    return 0;
}
