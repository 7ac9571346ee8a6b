/* The host's state is the host's: a guest's output reaches the host's file
 * descriptor before fd_write returns (no buffer that only a Rust main would
 * flush), a guest's fcntl(F_SETFL) never changes the host's descriptors, and
 * a guest writing to a closed pipe on the embedder's thread (start function,
 * reactor call) gets EPIPE instead of killing the host with SIGPIPE. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static weft_error_t *run_guest(const char *name, const weft_wasi_config_t *wasi, int32_t *code)
{
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, name);
    weft_instance_t *inst = NULL;
    weft_error_t *err = weft_instance_new(module, wasi, NULL, &inst);
    if (!err) err = weft_instance_run(inst, code);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return err;
}

/* Runs `guest` with the test's own fd 1 pointing at `fd`, then puts fd 1
 * back: whatever the guest wrote must be in `fd` by then. */
static void run_with_stdout(const char *guest, int fd)
{
    int32_t code = -1;
    int saved = dup(1);
    CHECK(saved >= 0);
    fflush(stdout);
    CHECK(dup2(fd, 1) == 1);
    CHECK_OK(run_guest(guest, NULL, &code));
    CHECK(dup2(saved, 1) == 1);
    close(saved);
    CHECK(code == 0);
}

static void partial_lines_reach_a_pipe(void)
{
    int p[2];
    char buf[256];
    ssize_t n;
    CHECK(pipe(p) == 0);
    run_with_stdout("partial_lines.wat", p[1]);
    close(p[1]);
    n = read(p[0], buf, sizeof buf - 1);
    CHECK(n >= 0);
    buf[n] = 0;
    close(p[0]);
    if (strcmp(buf, "t0;t1;t2;t3;done") != 0) fprintf(stderr, "got \"%s\"\n", buf);
    CHECK(strcmp(buf, "t0;t1;t2;t3;done") == 0);
    printf("partial_lines_reach_a_pipe ok\n");
}

static void partial_lines_reach_a_file(void)
{
    char path[] = "/tmp/weft-host-state-XXXXXX", buf[256];
    ssize_t n;
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "host:", 5) == 5);
    run_with_stdout("partial_lines.wat", fd);
    /* The guest wrote at the shared position, after the host's bytes. */
    CHECK(write(fd, ":host", 5) == 5);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    n = read(fd, buf, sizeof buf - 1);
    CHECK(n >= 0);
    buf[n] = 0;
    close(fd);
    unlink(path);
    if (strcmp(buf, "host:t0;t1;t2;t3;done:host") != 0) fprintf(stderr, "got \"%s\"\n", buf);
    CHECK(strcmp(buf, "host:t0;t1;t2;t3;done:host") == 0);
    printf("partial_lines_reach_a_file ok\n");
}

static void guest_fcntl_leaves_host_flags_alone(void)
{
    int in[2], out[2], before[2];
    int32_t code = -1;
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    before[0] = fcntl(in[0], F_GETFL);
    before[1] = fcntl(out[1], F_GETFL);
    CHECK_OK(weft_wasi_config_set_stdio_fd(wasi, 0, in[0]));
    CHECK_OK(weft_wasi_config_set_stdio_fd(wasi, 1, out[1]));
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 2, WEFT_STDIO_CAPTURE, NULL, 0));
    CHECK_OK(run_guest("set_flags.wat", wasi, &code));
    CHECK(code == 0);
    CHECK(fcntl(in[0], F_GETFL) == before[0]);
    CHECK(fcntl(out[1], F_GETFL) == before[1]);
    CHECK(!(fcntl(in[0], F_GETFL) & O_NONBLOCK));
    weft_wasi_config_delete(wasi);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    printf("guest_fcntl_leaves_host_flags_alone ok\n");
}

static int sigpipe_blocked_or_pending(void)
{
    sigset_t mask, pending;
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0);
    CHECK(sigpending(&pending) == 0);
    return sigismember(&mask, SIGPIPE) || sigismember(&pending, SIGPIPE);
}

/* With the default disposition a SIGPIPE would end this process. */
static void sigpipe_on_the_embedders_thread_is_epipe(void)
{
    int p[2];
    weft_engine_t *engine = new_engine(NULL);
    weft_module_t *module = load_guest(engine, "write_errno.wat");
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_instance_t *inst = NULL;
    weft_val_t result;
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    CHECK(pipe(p) == 0);
    close(p[0]);
    CHECK_OK(weft_wasi_config_set_stdio_fd(wasi, 1, p[1]));
    close(p[1]);
    /* The start function writes during weft_instance_new. */
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK(!sigpipe_blocked_or_pending());
    CHECK_OK(weft_instance_call(inst, "start_errno", 11, NULL, 0, &result, 1));
    if (result.of.i32 != 64) fprintf(stderr, "start errno %d\n", (int)result.of.i32);
    CHECK(result.kind == WEFT_I32 && result.of.i32 == 64); /* EPIPE */
    /* A reactor call writes too. */
    CHECK_OK(weft_instance_call(inst, "write", 5, NULL, 0, &result, 1));
    CHECK(result.of.i32 == 64);
    CHECK(!sigpipe_blocked_or_pending());
    weft_instance_delete(inst);
    weft_wasi_config_delete(wasi);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("sigpipe_on_the_embedders_thread_is_epipe ok\n");
}

int main(void)
{
    partial_lines_reach_a_pipe();
    partial_lines_reach_a_file();
    guest_fcntl_leaves_host_flags_alone();
    sigpipe_on_the_embedders_thread_is_epipe();
    return 0;
}
