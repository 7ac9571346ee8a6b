/* Memory allocated in one thread and freed in another: 4 producers malloc,
 * calloc and realloc blocks of varied sizes, fill them with a pattern and
 * hand them through a queue to 4 consumers, which check and free them. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P 4
#define PER_PRODUCER 20000
#define CAP 64

struct block {
    size_t size;
    unsigned char fill;
    unsigned char data[];
};

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static struct block *queue[CAP];
static int head, count, producing = P;

static void put(struct block *b)
{
    pthread_mutex_lock(&m);
    while (count == CAP) pthread_cond_wait(&not_full, &m);
    queue[(head + count++) % CAP] = b;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&m);
}

static struct block *take(void)
{
    pthread_mutex_lock(&m);
    while (count == 0 && producing > 0) pthread_cond_wait(&not_empty, &m);
    struct block *b = NULL;
    if (count > 0) {
        b = queue[head];
        head = (head + 1) % CAP;
        count--;
        pthread_cond_signal(&not_full);
    }
    pthread_mutex_unlock(&m);
    return b;
}

static void *producer(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < PER_PRODUCER; i++) {
        size_t size = 1 + (i * 7919u + id * 104729u) % 4000;
        struct block *b;
        if (i % 3 == 0) {
            b = calloc(1, sizeof *b + size);
            for (size_t k = 0; b && k < size; k++)
                if (b->data[k] != 0) return (void *)1; /* calloc must zero */
        } else if (i % 3 == 1) {
            b = malloc(sizeof *b + size / 2 + 1);
            b = b ? realloc(b, sizeof *b + size) : NULL;
        } else {
            b = malloc(sizeof *b + size);
        }
        if (!b) return (void *)2;
        b->size = size;
        b->fill = (unsigned char)(i + id);
        memset(b->data, b->fill, size);
        put(b);
    }
    pthread_mutex_lock(&m);
    producing--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *consumer(void *arg)
{
    long *freed = arg;
    struct block *b;
    while ((b = take())) {
        for (size_t k = 0; k < b->size; k++)
            if (b->data[k] != b->fill) return (void *)3;
        free(b);
        (*freed)++;
    }
    return NULL;
}

int main(void)
{
    pthread_t p[P], c[P];
    long freed[P] = {0};
    int bad = 0;
    for (uintptr_t i = 0; i < P; i++) pthread_create(&c[i], NULL, consumer, &freed[i]);
    for (uintptr_t i = 0; i < P; i++) pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < P; i++) {
        void *r;
        pthread_join(p[i], &r);
        bad += r != NULL;
    }
    long total = 0;
    for (int i = 0; i < P; i++) {
        void *r;
        pthread_join(c[i], &r);
        bad += r != NULL;
        total += freed[i];
    }
    printf("%ld blocks allocated in producers and freed in consumers, %d errors\n", total, bad);
    void *big = malloc(8 << 20);
    printf("an 8 MiB block afterwards: %s\n", big ? "ok" : "NULL");
    free(big);
    return 0;
}
