/* pthread_cond_broadcast wakes every waiter: 8 threads wait for "go"; main
 * broadcasts once they are all waiting, and all 8 run to the end. Then a
 * pthread_cond_signal per waiter wakes them one by one. */
#include <pthread.h>
#include <stdio.h>

#define T 8

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int waiting, go, woke, tickets, served;

static void *broadcast_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    waiting++;
    pthread_cond_signal(&ready_cond);
    while (!go) pthread_cond_wait(&go_cond, &m);
    woke++;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *ticket_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    waiting++;
    pthread_cond_signal(&ready_cond);
    while (tickets == 0) pthread_cond_wait(&go_cond, &m);
    tickets--;
    served++;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void run(void *(*f)(void *), int broadcast)
{
    pthread_t t[T];
    waiting = 0;
    for (int i = 0; i < T; i++) pthread_create(&t[i], NULL, f, NULL);
    pthread_mutex_lock(&m);
    while (waiting < T) pthread_cond_wait(&ready_cond, &m);
    if (broadcast) {
        go = 1;
        pthread_cond_broadcast(&go_cond);
    } else {
        for (int i = 0; i < T; i++) {
            tickets++;
            pthread_cond_signal(&go_cond);
        }
    }
    pthread_mutex_unlock(&m);
    for (int i = 0; i < T; i++) pthread_join(t[i], NULL);
}

int main(void)
{
    run(broadcast_waiter, 1);
    printf("broadcast woke %d of %d waiters\n", woke, T);
    run(ticket_waiter, 0);
    printf("%d signals served %d waiters, %d tickets left\n", T, served, tickets);
    return 0;
}
