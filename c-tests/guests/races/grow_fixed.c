// races/grow.c with the write under a mutex: no race.
#define LOCKED 1
#include "grow.c"
