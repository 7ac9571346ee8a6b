/* A true deadlock in one thread: main waits on a condition variable that
 * no one signals, while three idle workers wait for work that never comes. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int jobs, finished;

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (jobs == 0) pthread_cond_wait(&work, &lock);
        jobs--;
        finished++;
        pthread_cond_signal(&done);
    }
}

int main(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, NULL);
    pthread_mutex_lock(&lock);
    printf("waiting for a job nobody submitted\n");
    fflush(stdout);
    while (finished == 0) pthread_cond_wait(&done, &lock); /* forgot to add a job */
    pthread_mutex_unlock(&lock);
    printf("unreachable\n");
    return 0;
}
