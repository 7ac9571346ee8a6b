/* weft_config_set_huge_pages: with it on (the default) the program's shared
 * memory carries the kernel's huge page advice and, where the system's THP
 * mode allows, 2 MiB pages back it once the guest has touched it; with it off
 * the memory stays on 4 KiB pages. Read from /proc/self/smaps (Linux). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>

#include "check.h"

#define MEMORY_BYTES (32u << 20)

/* Over the mappings inside [lo, hi): whether any carries the advice ("hg" in
 * VmFlags), and the kilobytes of huge pages backing them. */
static void read_smaps(uintptr_t lo, uintptr_t hi, bool *advised, unsigned long *huge_kb)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[4096];
    bool inside = false;
    CHECK(f != NULL);
    *advised = false;
    *huge_kb = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b, kb;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
            inside = a < hi && b > lo;
        } else if (inside && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
            *huge_kb += kb;
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            if (strstr(line, " hg")) *advised = true;
        }
    }
    fclose(f);
}

/* Whether the system's THP mode lets madvised memory have huge pages. */
static bool thp_possible(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char mode[256] = "";
    if (!f) return false;
    if (!fgets(mode, sizeof mode, f)) mode[0] = 0;
    fclose(f);
    return strstr(mode, "[never]") == NULL && mode[0] != 0;
}

/* Runs the guest under a config that leaves the setting alone (set < 0) or
 * sets it, and checks how its memory is backed. */
static void run(int set)
{
    bool expect = set != 0, advised;
    unsigned long huge_kb;
    weft_config_t *config = weft_config_new();
    weft_engine_t *engine;
    weft_module_t *module;
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    uintptr_t base;

    CHECK(config != NULL);
    if (set >= 0) CHECK_OK(weft_config_set_huge_pages(config, set != 0));
    engine = new_engine(config);
    module = load_guest(engine, "huge_pages.wat");
    CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);
    CHECK(weft_instance_memory_size(inst) == MEMORY_BYTES);
    base = (uintptr_t)weft_instance_memory_data(inst);
    CHECK(base != 0);
    read_smaps(base, base + MEMORY_BYTES, &advised, &huge_kb);
    printf("huge pages %s: advised %d, %lu kB of huge pages\n",
           set < 0 ? "default" : set ? "on" : "off", advised, huge_kb);
    CHECK(advised == expect);
    if (!expect) CHECK(huge_kb == 0);
    if (expect && thp_possible()) CHECK(huge_kb > 0);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    weft_config_delete(config);
}

int main(void)
{
    run(-1);
    run(1);
    run(0);
    CHECK_ERR(weft_config_set_huge_pages(NULL, true), WEFT_ERROR_NULL_ARGUMENT);
    printf("test_huge_pages ok\n");
    return 0;
}
