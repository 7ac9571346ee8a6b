/* 64 threads in 8 waves of 8: each wave is created and joined before the
 * next, so thread ids and stacks are reused. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ran;

static void *work(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    ran++;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    for (int wave = 0; wave < 8; wave++) {
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
            if (pthread_create(&t[i], NULL, work, NULL) != 0) {
                printf("create failed in wave %d\n", wave);
                return 1;
            }
        for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    }
    printf("%d threads ran\n", ran);
    return ran == 64 ? 0 : 1;
}
