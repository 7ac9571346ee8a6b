/* A trap in main while five threads block in a mutex, a condvar, a join, a
 * sleep and a read: the program ends as a trap (weft-run exits 134). */
#include "waiters.h"

int main(void)
{
    start_waiters();
    puts("trap in main");
    fflush(stdout);
    __builtin_trap();
}
