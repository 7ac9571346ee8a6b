/* PTHREAD_MUTEX_NORMAL and the default mutex: 8 threads each add 1 to two
 * shared counters 20000 times, one counter under each mutex; no update is
 * lost, and the counters are read only under the locks. */
#include <pthread.h>
#include <stdio.h>

#define T 8
#define N 20000

static pthread_mutex_t normal;
static pthread_mutex_t dflt = PTHREAD_MUTEX_INITIALIZER;
static long a, b;

static void *work(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        pthread_mutex_lock(&normal);
        a++;
        pthread_mutex_unlock(&normal);
        pthread_mutex_lock(&dflt);
        b++;
        pthread_mutex_unlock(&dflt);
    }
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t attr;
    int type = -1;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL);
    pthread_mutexattr_gettype(&attr, &type);
    if (pthread_mutex_init(&normal, &attr) != 0) return 1;
    pthread_mutexattr_destroy(&attr);
    printf("type is PTHREAD_MUTEX_NORMAL: %s\n", type == PTHREAD_MUTEX_NORMAL ? "yes" : "no");

    pthread_t t[T];
    for (int i = 0; i < T; i++)
        if (pthread_create(&t[i], NULL, work, NULL) != 0) return 2;
    for (int i = 0; i < T; i++) pthread_join(t[i], NULL);
    pthread_mutex_lock(&normal);
    printf("normal mutex counter: %ld\n", a);
    pthread_mutex_unlock(&normal);
    pthread_mutex_lock(&dflt);
    printf("default mutex counter: %ld\n", b);
    pthread_mutex_unlock(&dflt);
    printf("destroy: %d\n", pthread_mutex_destroy(&normal));
    return a == (long)T * N && b == (long)T * N ? 0 : 3;
}
