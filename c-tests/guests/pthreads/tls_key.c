/* pthread_key_create with destructors: each thread stores its own value;
 * the destructor runs once per thread that exits with a non-NULL value,
 * never for NULL, and never for main before it exits. A destructor that
 * stores a new value runs again. (wasi-libc has no pthread_exit.) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define T 8

static pthread_key_t key, again_key;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int destroyed, id_sum, again_calls;

static void destroy(void *p)
{
    pthread_mutex_lock(&m);
    destroyed++;
    id_sum += *(int *)p;
    pthread_mutex_unlock(&m);
    free(p);
}

static void destroy_again(void *p)
{
    pthread_mutex_lock(&m);
    again_calls++;
    pthread_mutex_unlock(&m);
    if ((intptr_t)p == 1) pthread_setspecific(again_key, (void *)2); /* run once more */
}

static void *work(void *arg)
{
    int id = (int)(intptr_t)arg;
    if (pthread_getspecific(key) != NULL) return (void *)1;
    if (id == 0) return NULL; /* never set: no destructor call */
    int *p = malloc(sizeof *p);
    *p = id;
    pthread_setspecific(key, p);
    if (id == 1) pthread_setspecific(again_key, (void *)1);
    if (*(int *)pthread_getspecific(key) != id) return (void *)2;
    return NULL;
}

int main(void)
{
    pthread_key_create(&key, destroy);
    pthread_key_create(&again_key, destroy_again);
    int *mine = malloc(sizeof *mine);
    *mine = 100;
    pthread_setspecific(key, mine);

    pthread_t t[T];
    int bad = 0;
    for (int i = 0; i < T; i++) pthread_create(&t[i], NULL, work, (void *)(intptr_t)i);
    for (int i = 0; i < T; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += r != NULL;
    }
    printf("destructor ran %d times, ids summed to %d (1+2+...+7 = 28)\n", destroyed, id_sum);
    printf("a destructor that stores a new value ran %d times\n", again_calls);
    printf("threads that saw a value they did not set: %d\n", bad);
    printf("main still has its own value: %d\n", *(int *)pthread_getspecific(key));
    printf("key_delete: %d\n", pthread_key_delete(again_key));
    free(mine);
    pthread_setspecific(key, NULL);
    return 0;
}
