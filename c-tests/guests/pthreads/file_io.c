/* File I/O from 8 threads in a preopened directory (weft-run --dir
 * HOST::/data): each thread writes its own file through stdio, then reads
 * back another thread's file; all threads append whole lines to one shared
 * file with O_APPEND; main lists the directory and checks every line. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T 8
#define LINES 100

static pthread_barrier_t written;

static void *work(void *arg)
{
    int id = (int)(intptr_t)arg;
    char path[64], line[64];
    intptr_t bad = 0;

    snprintf(path, sizeof path, "/data/thread-%d.txt", id);
    FILE *f = fopen(path, "w");
    if (!f) return (void *)1000;
    for (int i = 0; i < LINES; i++) fprintf(f, "thread %d line %d\n", id, i);
    if (fclose(f) != 0) bad++;

    int fd = open("/data/shared.log", O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return (void *)2000;
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof line, "%d:%d\n", id, i);
        if (write(fd, line, (size_t)n) != n) bad++;
    }
    close(fd);

    pthread_barrier_wait(&written);
    int other = (id + 1) % T;
    snprintf(path, sizeof path, "/data/thread-%d.txt", other);
    f = fopen(path, "r");
    if (!f) return (void *)3000;
    int i = 0;
    char want[64];
    while (fgets(line, sizeof line, f)) {
        snprintf(want, sizeof want, "thread %d line %d\n", other, i++);
        if (strcmp(line, want) != 0) bad++;
    }
    fclose(f);
    if (i != LINES) bad++;
    return (void *)bad;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    pthread_t t[T];
    intptr_t bad = 0;
    pthread_barrier_init(&written, NULL, T);
    for (intptr_t i = 0; i < T; i++) pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < T; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (intptr_t)r;
    }
    printf("threads' own files read back by another thread: %s\n", bad ? "MISMATCH" : "ok");

    FILE *log = fopen("/data/shared.log", "r");
    int next[T] = {0}, lines = 0, out_of_order = 0;
    char line[64];
    while (log && fgets(line, sizeof line, log)) {
        int id, i;
        if (sscanf(line, "%d:%d", &id, &i) != 2 || id < 0 || id >= T) {
            out_of_order++;
            continue;
        }
        if (i != next[id]++) out_of_order++;
        lines++;
    }
    if (log) fclose(log);
    printf("shared.log: %d whole lines, %d out of order or torn\n", lines, out_of_order);

    DIR *d = opendir("/data");
    char *names[T + 4];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < T + 4)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    printf("/data holds %d files:", n);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    printf("unlink shared.log: %d\n", unlink("/data/shared.log"));
    return 0;
}
