/* exit(24) from main while five threads block in a mutex, a condvar, a
 * join, a sleep and a read: the program ends at once with status 24. */
#include <stdlib.h>

#include "waiters.h"

int main(void)
{
    start_waiters();
    puts("exit(24) from main");
    exit(24);
}
