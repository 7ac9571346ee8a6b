/* Four threads increment one counter 10,000 times each under a mutex.
 * Built like every guest here, i.e. also without -Wl,--import-memory: the
 * module then defines its shared memory, which weft turns into one memory
 * all threads share (on private copies the total would be wrong). */
#include <pthread.h>
#include <stdio.h>

static int counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *run(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, run, NULL) != 0) return 2;
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("counter %d\n", counter);
    return counter == 40000 ? 0 : 1;
}
