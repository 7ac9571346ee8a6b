/* A true deadlock: main joins a thread that waits on a semaphore-like flag
 * nobody ever sets (an untimed futex wait). */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int ready;

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!ready) pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    printf("joining a thread that waits forever\n");
    fflush(stdout);
    pthread_join(t, NULL);
    printf("unreachable\n");
    return 0;
}
