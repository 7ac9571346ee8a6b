/* Header hygiene (C99): weft.h comes first with nothing before it, compiles
 * on its own, and can be included twice. */
#include "weft.h"
#include "weft.h"

/* Every public type is usable with only the header. */
static weft_val_t v;
typedef char weft_assert_version[WEFT_VERSION_MAJOR >= 0 ? 1 : -1];

int main(void)
{
    weft_config_t *config = 0;
    (void)config;
    v.kind = WEFT_I32;
    v.of.i32 = 0;
    return v.of.i32;
}
