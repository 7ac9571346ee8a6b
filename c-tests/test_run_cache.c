/* weft-run's module cache: the default directory ($XDG_CACHE_HOME/weft, else
 * ~/.cache/weft), --cache-dir and --no-cache; damaged, truncated and foreign
 * entries are ignored and rewritten; 8 concurrent weft-runs share one
 * directory safely.
 *
 * Usage: test_run_cache WEFT_RUN GUEST_EXIT_0 GUEST_EXIT_42 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static const char *weft_run, *guest, *guest42;
static char tmp[] = "/tmp/weft-run-cache-XXXXXX";

/* Starts weft-run with `args` (NULL-terminated, after argv[0]) and the
 * environment variable assignments `env` ("NAME=VALUE" or "NAME" to unset);
 * returns its pid. stdout goes to /dev/null. */
static pid_t start(const char *const *env, const char *const *args)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (; env && *env; env++) {
            const char *eq = strchr(*env, '=');
            if (eq) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(eq - *env), *env);
                setenv(name, eq + 1, 1);
            } else {
                unsetenv(*env);
            }
        }
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        const char *argv[16] = {weft_run};
        for (int i = 0; args[i] && i < 14; i++) argv[i + 1] = args[i];
        execv(weft_run, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid)
{
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int run(const char *const *env, const char *const *args)
{
    return finish(start(env, args));
}

/* The single *.weftc file in `dir` (into `path`); fails if there are temporary files left. */
static int entries(const char *dir, char *path, size_t size)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d) return 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 6 && strcmp(e->d_name + len - 6, ".weftc") == 0) {
            n++;
            if (path) snprintf(path, size, "%s/%s", dir, e->d_name);
        }
        if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) {
            fprintf(stderr, "left-over temporary file %s/%s\n", dir, e->d_name);
            n += 1000;
        }
    }
    closedir(d);
    return n;
}

static size_t read_all(const char *path, char **data)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    CHECK(n > 0);
    rewind(f);
    *data = malloc((size_t)n);
    CHECK(*data != NULL);
    CHECK(fread(*data, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return (size_t)n;
}

static void write_all(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

static int same_file(const char *path, const char *data, size_t n)
{
    char *now;
    size_t m = read_all(path, &now);
    int same = m == n && memcmp(now, data, n) == 0;
    free(now);
    return same;
}

static void path_in(char *out, size_t size, const char *sub)
{
    snprintf(out, size, "%s/%s", tmp, sub);
}

int main(int argc, char **argv)
{
    char dir[512], xdg[512], home[512], entry[1024], entry42[1024], env_xdg[600], env_home[600];
    if (argc != 4) {
        fprintf(stderr, "usage: %s WEFT_RUN GUEST GUEST_EXIT_42\n", argv[0]);
        return 2;
    }
    weft_run = argv[1], guest = argv[2], guest42 = argv[3];
    CHECK(mkdtemp(tmp) != NULL);

    /* The default: $XDG_CACHE_HOME/weft. */
    path_in(xdg, sizeof xdg, "xdg");
    snprintf(env_xdg, sizeof env_xdg, "XDG_CACHE_HOME=%s", xdg);
    path_in(home, sizeof home, "home");
    CHECK(mkdir(home, 0700) == 0);
    snprintf(env_home, sizeof env_home, "HOME=%s", home);
    {
        const char *env[] = {env_xdg, env_home, NULL};
        const char *args[] = {guest, NULL};
        CHECK(run(env, args) == 0);
        char sub[600];
        snprintf(sub, sizeof sub, "%s/weft", xdg);
        CHECK(entries(sub, NULL, 0) == 1);
        struct stat st;
        CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
        snprintf(sub, sizeof sub, "%s/.cache/weft", home);
        CHECK(entries(sub, NULL, 0) == 0);
    }
    /* Else ~/.cache/weft; a relative XDG_CACHE_HOME is ignored, as the XDG rules say. */
    {
        const char *env[] = {"XDG_CACHE_HOME=relative", env_home, NULL};
        const char *args[] = {guest, NULL};
        CHECK(run(env, args) == 0);
        char sub[600];
        snprintf(sub, sizeof sub, "%s/.cache/weft", home);
        CHECK(entries(sub, NULL, 0) == 1);
    }
    /* --no-cache writes nothing; without HOME and XDG_CACHE_HOME it still runs. */
    {
        char none[512], env_none[600];
        path_in(none, sizeof none, "none");
        snprintf(env_none, sizeof env_none, "XDG_CACHE_HOME=%s", none);
        const char *env[] = {env_none, NULL};
        const char *args[] = {"--no-cache", guest, NULL};
        CHECK(run(env, args) == 0);
        struct stat st;
        CHECK(stat(none, &st) != 0);
        const char *env2[] = {"XDG_CACHE_HOME", "HOME", NULL};
        const char *args2[] = {guest, NULL};
        CHECK(run(env2, args2) == 0);
        const char *args3[] = {"--cache-dir", "", guest, NULL};
        CHECK(run(NULL, args3) == 2);
    }

    /* --cache-dir DIR; damaged entries are misses that are rewritten. */
    path_in(dir, sizeof dir, "cache");
    const char *env[] = {env_xdg, NULL};
    const char *args[] = {"--cache-dir", dir, guest, NULL};
    const char *args42[] = {"--cache-dir", dir, guest42, NULL};
    CHECK(run(env, args) == 0);
    CHECK(entries(dir, entry, sizeof entry) == 1);
    char *good;
    size_t n = read_all(entry, &good);
    CHECK(run(env, args) == 0);
    CHECK(same_file(entry, good, n));
    char *bad = malloc(n);
    CHECK(bad != NULL);
    const size_t cuts[] = {n / 2, n - 1, 24, 7, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_all(entry, good, cuts[i]); /* truncated */
        CHECK(run(env, args) == 0);
        CHECK(same_file(entry, good, n));
    }
    const size_t flips[] = {0, 12, 30, n / 3, n / 2, n - 100, n - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(bad, good, n); /* corrupted */
        bad[flips[i]] ^= 0x5a;
        write_all(entry, bad, n);
        CHECK(run(env, args) == 0);
        CHECK(same_file(entry, good, n));
    }
    /* A foreign entry: another module's valid file under this module's name. */
    CHECK(run(env, args42) == 42);
    CHECK(entries(dir, NULL, 0) == 2);
    {
        DIR *d = opendir(dir);
        struct dirent *e;
        entry42[0] = 0;
        while ((e = readdir(d)))
            if (strstr(e->d_name, ".weftc") && strstr(entry, e->d_name) == NULL)
                snprintf(entry42, sizeof entry42, "%s/%s", dir, e->d_name);
        closedir(d);
    }
    CHECK(entry42[0] != 0);
    char *other;
    size_t m = read_all(entry42, &other);
    write_all(entry, other, m);
    CHECK(run(env, args) == 0);
    CHECK(same_file(entry, good, n));
    CHECK(run(env, args42) == 42);
    CHECK(same_file(entry42, other, m));

    /* 8 concurrent weft-runs on one directory: empty, damaged, warm. */
    for (int phase = 0; phase < 3; phase++) {
        if (phase == 0) CHECK(unlink(entry) == 0 && unlink(entry42) == 0);
        if (phase == 1) write_all(entry, good, n / 2);
        pid_t pids[8];
        for (int i = 0; i < 8; i++) pids[i] = start(env, i % 4 == 3 ? args42 : args);
        for (int i = 0; i < 8; i++) CHECK(finish(pids[i]) == (i % 4 == 3 ? 42 : 0));
        CHECK(entries(dir, NULL, 0) == 2);
        CHECK(run(env, args) == 0);
        CHECK(run(env, args42) == 42);
    }

    /* A group- or world-writable cache directory is not used (but the program runs). */
    CHECK(chmod(dir, 0777) == 0);
    CHECK(unlink(entry) == 0);
    CHECK(run(env, args) == 0);
    CHECK(access(entry, F_OK) != 0);

    free(good);
    free(bad);
    free(other);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    printf("ok\n");
    return 0;
}
