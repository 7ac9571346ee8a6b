/* 256 threads in 8 waves of 32: the 32 threads of a wave are all alive at
 * once (they meet at a barrier), and each wave is joined before the next,
 * so thread ids, stacks and TLS blocks are reused. */
#include <pthread.h>
#include <stdio.h>

#define WAVES 8
#define PER_WAVE 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t together;
static int ran;

static void *work(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&together);
    pthread_mutex_lock(&lock);
    ran++;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&together, NULL, PER_WAVE);
    for (int wave = 0; wave < WAVES; wave++) {
        pthread_t t[PER_WAVE];
        for (int i = 0; i < PER_WAVE; i++)
            if (pthread_create(&t[i], NULL, work, NULL) != 0) {
                printf("create failed in wave %d\n", wave);
                return 1;
            }
        for (int i = 0; i < PER_WAVE; i++) pthread_join(t[i], NULL);
    }
    printf("%d threads ran, %d waves of %d alive at once\n", ran, WAVES, PER_WAVE);
    return ran == WAVES * PER_WAVE ? 0 : 1;
}
