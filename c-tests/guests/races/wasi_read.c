// Planted race: a thread reads a file into a buffer (WASI fd_read writes it)
// while main reads the buffer with nothing ordering the two.
// (races/wasi_read_fixed.c joins the thread first.) Run with a preopened
// directory as /data.
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static char buf[16];
static int fd;
// The thread lives on until main has read the buffer: its exit would take
// locks main may take too, ordering the two.
static atomic_int go;

static void *reader(void *arg)
{
    (void)arg;
    ssize_t n = read(fd, buf, 5);
    while (!atomic_load(&go)) {
    }
    return n == 5 ? NULL : (void *)1;
}

int main(void)
{
    FILE *f = fopen("/data/in.txt", "w");
    if (!f || fputs("hello", f) < 0 || fclose(f)) return 1;
    fd = open("/data/in.txt", O_RDONLY);
    if (fd < 0) return 1;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(20000);
    char first = buf[0];
    atomic_store(&go, 1);
    void *result;
    pthread_join(t, &result);
    printf("read %s\n", result ? "failed" : "ok");
    return first == 'x';
}
