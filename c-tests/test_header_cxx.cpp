// Header hygiene (C++): weft.h compiles alone as C++, twice included, and
// its declarations have C linkage.
#include "weft.h"
#include "weft.h"

#include <type_traits>

static_assert(std::is_same<decltype(&weft_version), const char *(*)()>::value, "C linkage signature");
static_assert(std::is_standard_layout<weft_val_t>::value, "weft_val_t is a plain C struct");

int main()
{
    weft_val_t v{};
    v.kind = WEFT_F64;
    return static_cast<int>(v.of.i32);
}
