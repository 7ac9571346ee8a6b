/* The thread limit: spawning past weft_config_set_max_threads fails with a
 * negative TID (the guest counts its successes and exits with the count). */
#include "check.h"

static void limit(uint32_t max, int32_t want)
{
    weft_config_t *config = weft_config_new();
    weft_engine_t *engine;
    weft_module_t *module;
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    uint32_t peak = 0;
    if (max) CHECK_OK(weft_config_set_max_threads(config, max));
    engine = new_engine(config);
    weft_config_delete(config);
    module = load_guest(engine, "limit.wat");
    CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    if (code != want) {
        fprintf(stderr, "max_threads %u: guest spawned %d, expected %d\n", (unsigned)max, (int)code, (int)want);
        exit(1);
    }
    CHECK_OK(weft_instance_stats(inst, NULL, &peak, NULL));
    CHECK(peak == (uint32_t)want);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    printf("max_threads %u -> %d threads ok\n", (unsigned)max, (int)want);
}

int main(void)
{
    weft_config_t *config = weft_config_new();
    CHECK_ERR(weft_config_set_max_threads(config, 0), WEFT_ERROR_INVALID_ARGUMENT);
    weft_config_delete(config);
    limit(1, 1);
    limit(5, 5);
    limit(0, 200); /* the default (1024) does not stop the guest's own cap of 200 */
    return 0;
}
