/* The race detector from C (README "Finding data races"): off by default,
 * weft_config_set_detect_races turns it on, and a planted race (race.wat)
 * is listed by weft_instance_race_count / weft_instance_race_report; with
 * the module's DWARF (race_dwarf.wat) the report names the variable. */
#include "check.h"

static size_t run_race(int detect, const char *guest, char *first, size_t first_size)
{
    weft_config_t *config = weft_config_new();
    weft_engine_t *engine;
    weft_module_t *module;
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    size_t n;
    if (detect) CHECK_OK(weft_config_set_detect_races(config, true));
    engine = new_engine(config);
    weft_config_delete(config);
    module = load_guest(engine, guest);
    CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    CHECK(code == 0);
    n = weft_instance_race_count(inst);
    if (n > 0) {
        uint8_t *text = NULL;
        size_t len = 0;
        CHECK_OK(weft_instance_race_report(inst, 0, &text, &len));
        CHECK(len > 0 && len < first_size);
        memcpy(first, text, len);
        first[len] = 0;
        weft_bytes_free(text, len);
        CHECK(weft_instance_race_shadow_bytes(inst) > 0);
    }
    CHECK_ERR(weft_instance_race_report(inst, n, &(uint8_t *){NULL}, &(size_t){0}),
              WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_instance_race_report(inst, 0, NULL, &(size_t){0}), WEFT_ERROR_NULL_ARGUMENT);
    weft_instance_delete(inst);
    weft_module_delete(module);
    weft_engine_delete(engine);
    return n;
}

int main(void)
{
    static const char named[] =
        "data race on 4 bytes at 0x64 (flag+0, a 4-byte variable in the program's data):\n";
    char text[4096];
    CHECK_ERR(weft_config_set_detect_races(NULL, true), WEFT_ERROR_NULL_ARGUMENT);
    CHECK(weft_instance_race_count(NULL) == 0);
    CHECK(weft_instance_race_shadow_bytes(NULL) == 0);
    CHECK(run_race(0, "race.wat", text, sizeof text) == 0);
    CHECK(run_race(1, "race.wat", text, sizeof text) == 1);
    CHECK(strncmp(text, "data race on 4 bytes at 0x64:", 29) == 0);
    CHECK(strstr(text, "in publish (wasm function 1)") != NULL);
    CHECK(strstr(text, "in poll (wasm function 2)") != NULL);
    printf("%s\n", text);
    CHECK(run_race(1, "race_dwarf.wat", text, sizeof text) == 1);
    CHECK(strncmp(text, named, sizeof named - 1) == 0);
    printf("%s\n", text);
    return 0;
}
