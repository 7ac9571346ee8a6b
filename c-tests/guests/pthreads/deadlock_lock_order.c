/* A true deadlock: two threads take two mutexes in opposite order (a barrier
 * makes sure each holds its first one), and main joins them. weft ends the
 * program as a deadlock (weft-run exit status 125) with a thread dump. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

static void *take(pthread_mutex_t *first, pthread_mutex_t *second)
{
    pthread_mutex_lock(first);
    pthread_barrier_wait(&both_hold_one);
    pthread_mutex_lock(second); /* never returns */
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

static void *a_then_b(void *arg) { (void)arg; return take(&a, &b); }
static void *b_then_a(void *arg) { (void)arg; return take(&b, &a); }

int main(void)
{
    pthread_t t1, t2;
    pthread_barrier_init(&both_hold_one, NULL, 2);
    pthread_create(&t1, NULL, a_then_b, NULL);
    pthread_create(&t2, NULL, b_then_a, NULL);
    printf("two threads, two mutexes, opposite order\n");
    fflush(stdout);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    printf("unreachable\n");
    return 0;
}
