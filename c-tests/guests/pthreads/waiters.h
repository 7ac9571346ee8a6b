/* Shared by the exit_*_waiting and trap_*_waiting guests: starts five
 * threads that block, each in one kind of wait, and returns once all five
 * are about to block (plus a moment to get there):
 *   mutex    pthread_mutex_lock on a mutex main holds
 *   condvar  pthread_cond_wait that nobody signals
 *   join     pthread_join of the condvar thread
 *   sleep    sleep(1000)
 *   read     read(0) on a stdin that stays open and empty (the test's
 *            .stdin-pipe)
 * None of them can return: whoever ends the program must stop them. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t waiters_held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t waiters_cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t waiters_never = PTHREAD_COND_INITIALIZER;
static pthread_t waiters_cond_thread;
static int waiters_ready;

static void waiters_arrive(void)
{
    __atomic_fetch_add(&waiters_ready, 1, __ATOMIC_SEQ_CST);
}

static void *waiters_mutex(void *arg)
{
    (void)arg;
    waiters_arrive();
    pthread_mutex_lock(&waiters_held);
    puts("unreachable: mutex acquired");
    return NULL;
}

static void *waiters_condvar(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&waiters_cond_lock);
    waiters_arrive();
    for (;;) pthread_cond_wait(&waiters_never, &waiters_cond_lock);
    return NULL;
}

static void *waiters_join(void *arg)
{
    (void)arg;
    waiters_arrive();
    pthread_join(waiters_cond_thread, NULL);
    puts("unreachable: joined");
    return NULL;
}

static void *waiters_sleep(void *arg)
{
    (void)arg;
    waiters_arrive();
    sleep(1000);
    puts("unreachable: slept");
    return NULL;
}

static void *waiters_read(void *arg)
{
    (void)arg;
    char c;
    waiters_arrive();
    ssize_t n = read(0, &c, 1);
    printf("unreachable: read returned %d\n", (int)n);
    return NULL;
}

static void start_waiters(void)
{
    pthread_t t;
    pthread_mutex_lock(&waiters_held);
    pthread_create(&waiters_cond_thread, NULL, waiters_condvar, NULL);
    pthread_create(&t, NULL, waiters_mutex, NULL);
    pthread_create(&t, NULL, waiters_join, NULL);
    pthread_create(&t, NULL, waiters_sleep, NULL);
    pthread_create(&t, NULL, waiters_read, NULL);
    while (__atomic_load_n(&waiters_ready, __ATOMIC_SEQ_CST) < 5) usleep(1000);
    usleep(100000);
    puts("5 threads waiting: mutex, condvar, join, sleep, read");
    fflush(stdout);
}
