/* PTHREAD_MUTEX_RECURSIVE: the owner locks it again and again (lock and
 * trylock); another thread's trylock gets EBUSY until the owner has
 * unlocked as many times as it locked. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

static pthread_mutex_t m;

static void *try_from_other_thread(void *arg)
{
    (void)arg;
    int r = pthread_mutex_trylock(&m);
    if (r == 0) pthread_mutex_unlock(&m);
    return (void *)(intptr_t)r;
}

static const char *other(void)
{
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, try_from_other_thread, NULL);
    pthread_join(t, &r);
    return (intptr_t)r == 0 ? "0" : (intptr_t)r == EBUSY ? "EBUSY" : "other error";
}

/* Depth-first recursion that takes the lock at every level. */
static int depth(int n)
{
    pthread_mutex_lock(&m);
    int r = n == 0 ? 0 : 1 + depth(n - 1);
    pthread_mutex_unlock(&m);
    return r;
}

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m, &attr);
    pthread_mutexattr_destroy(&attr);

    printf("lock: %d\n", pthread_mutex_lock(&m));
    printf("lock again: %d\n", pthread_mutex_lock(&m));
    printf("trylock by owner: %d\n", pthread_mutex_trylock(&m));
    printf("other thread trylock at depth 3: %s\n", other());
    printf("unlock: %d\n", pthread_mutex_unlock(&m));
    printf("unlock: %d\n", pthread_mutex_unlock(&m));
    printf("other thread trylock at depth 1: %s\n", other());
    printf("unlock: %d\n", pthread_mutex_unlock(&m));
    printf("other thread trylock when free: %s\n", other());
    printf("recursion 100 levels deep under the lock: %d\n", depth(100));
    printf("other thread trylock after the recursion: %s\n", other());
    return 0;
}
