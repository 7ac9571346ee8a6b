/* Arguments, environment, clocks, randomness, poll with clock
 * subscriptions, stdin fed from the host. Run with
 * argv = {"env.wasm", "one", "two words"}, WEFT_A=1, WEFT_B=x=y and stdin
 * "line one\nline two\n". */
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static long long ns(clockid_t id) {
    struct timespec t;
    CHECK(clock_gettime(id, &t) == 0);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    /* args */
    CHECK(argc == 3);
    CHECK(strcmp(argv[0], "env.wasm") == 0);
    CHECK(strcmp(argv[1], "one") == 0);
    CHECK(strcmp(argv[2], "two words") == 0);
    CHECK(argv[3] == NULL);

    /* environment */
    CHECK(getenv("WEFT_A") && strcmp(getenv("WEFT_A"), "1") == 0);
    CHECK(getenv("WEFT_B") && strcmp(getenv("WEFT_B"), "x=y") == 0);
    CHECK(getenv("WEFT_MISSING") == NULL);
    int nenv = 0;
    for (char **e = environ; *e; e++) nenv++;
    CHECK(nenv == 2);

    /* clocks */
    long long r = ns(CLOCK_REALTIME);
    CHECK(r > 1600000000LL * 1000000000LL);
    long long m1 = ns(CLOCK_MONOTONIC);
    long long m2 = ns(CLOCK_MONOTONIC);
    CHECK(m2 >= m1);
    struct timespec res;
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
    CHECK(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000);
    CHECK(ns(CLOCK_PROCESS_CPUTIME_ID) >= 0);

    /* sleeps: nanosleep and poll(2) with no fds both use clock subscriptions */
    long long before = ns(CLOCK_MONOTONIC);
    struct timespec d = {0, 30 * 1000000};
    CHECK(nanosleep(&d, NULL) == 0);
    long long slept = ns(CLOCK_MONOTONIC) - before;
    CHECK(slept >= 30000000LL && slept < 2000000000LL);
    before = ns(CLOCK_MONOTONIC);
    CHECK(poll(NULL, 0, 20) == 0);
    CHECK(ns(CLOCK_MONOTONIC) - before >= 20000000LL);
    /* absolute deadline */
    struct timespec until;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &until) == 0);
    until.tv_nsec += 10000000;
    if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0);
    CHECK(ns(CLOCK_MONOTONIC) >= (long long)until.tv_sec * 1000000000LL + until.tv_nsec);

    /* randomness */
    unsigned char a[64], b[64];
    CHECK(getentropy(a, sizeof a) == 0);
    CHECK(getentropy(b, sizeof b) == 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    static unsigned char big[200000];
    arc4random_buf(big, sizeof big);
    int zeros = 0;
    for (size_t i = 0; i < sizeof big; i++) zeros += big[i] == 0;
    CHECK(zeros < 2000);

    /* poll on stdin (fed bytes: readable at once) plus a timeout */
    struct pollfd p = {.fd = 0, .events = POLLIN};
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
    char line[64];
    CHECK(fgets(line, sizeof line, stdin) && strcmp(line, "line one\n") == 0);
    CHECK(fgets(line, sizeof line, stdin) && strcmp(line, "line two\n") == 0);
    CHECK(fgets(line, sizeof line, stdin) == NULL && feof(stdin));

    printf("env ok\n");
    fprintf(stderr, "to stderr\n");
    return 0;
}
