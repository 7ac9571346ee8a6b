/* WebAssembly feature switches from C: weft_config_set_wasm_feature(s),
 * weft_config_wasm_feature, weft_wasm_feature_names; a module that uses a
 * switched-off proposal is refused naming the switch; every proposal's WAT
 * test (guests/wat/features) runs with its switch on and is refused with it
 * off; an uncaught exception in a thread is a trap of that thread. */
#include "check.h"

#define FEATURES WEFT_TEST_SRC_GUESTS "/features/"

static int contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

static int feature(const weft_config_t *config, const char *name)
{
    bool on = false;
    CHECK_OK(weft_config_wasm_feature(config, name, strlen(name), &on));
    return on;
}

/* weft_config_set_wasm_features with a NUL-terminated spec. */
static weft_error_t *set_spec(weft_config_t *config, const char *spec)
{
    return weft_config_set_wasm_features(config, spec, strlen(spec));
}

static void set_feature(weft_config_t *config, const char *name, bool on)
{
    CHECK_OK(weft_config_set_wasm_feature(config, name, strlen(name), on));
}

/* Loads FEATURES<name>.wat with `config`; returns the error (NULL: loaded). */
static weft_error_t *load_feature(const weft_config_t *config, const char *name, weft_module_t **module)
{
    char path[4096];
    weft_engine_t *engine = NULL;
    weft_error_t *err;
    snprintf(path, sizeof path, "%s%s.wat", FEATURES, name);
    if ((err = weft_engine_new(config, &engine))) return err;
    err = weft_module_new_file(engine, path, strlen(path), module);
    weft_engine_delete(engine);
    return err;
}

/* Runs a loaded module and returns its exit code (failing on an error). */
static int32_t run(const weft_module_t *module, char **out)
{
    weft_wasi_config_t *wasi = weft_wasi_config_new();
    weft_instance_t *inst = NULL;
    int32_t code = -1;
    CHECK_OK(weft_wasi_config_set_stdio(wasi, 1, WEFT_STDIO_CAPTURE, NULL, 0));
    CHECK_OK(weft_instance_new(module, wasi, NULL, &inst));
    CHECK_OK(weft_instance_run(inst, &code));
    *out = captured(inst, 1);
    weft_instance_delete(inst);
    weft_wasi_config_delete(wasi);
    return code;
}

int main(void)
{
    weft_config_t *config = weft_config_new();
    weft_module_t *module = NULL;
    weft_error_t *err;
    bool on = true;
    const char *names = weft_wasm_feature_names();
    char *out = NULL;

    /* The names, in the README's order. */
    CHECK(strcmp(names, "simd,relaxed-simd,bulk-memory,multi-value,reference-types,tail-call,"
                        "multi-memory,memory64,extended-const,function-references,gc,exceptions,"
                        "threads,shared-memory,wide-arithmetic,custom-page-sizes,all-proposals") == 0);

    /* Defaults: wasmtime run 48's, plus threads. */
    CHECK(feature(config, "exceptions") && feature(config, "gc") && feature(config, "tail-call"));
    CHECK(feature(config, "threads") && feature(config, "shared-memory"));
    CHECK(!feature(config, "wide-arithmetic") && !feature(config, "custom-page-sizes"));
    CHECK(!feature(config, "all-proposals"));

    /* Setting, one by one and as -W takes them. */
    set_feature(config, "exceptions", false);
    CHECK(!feature(config, "exceptions"));
    CHECK_OK(set_spec(config, "exceptions=y,gc=n,wide-arithmetic"));
    CHECK(feature(config, "exceptions") && !feature(config, "gc") && feature(config, "wide-arithmetic"));
    CHECK_OK(set_spec(config, "all-proposals=y"));
    CHECK(feature(config, "all-proposals") && feature(config, "gc"));
    CHECK_OK(set_spec(config, "wide-arithmetic=n,custom-page-sizes=false"));
    CHECK(feature(config, "gc") && !feature(config, "custom-page-sizes"));

    /* Refusals: unknown names list the known ones; threads always on;
     * nothing of a refused spec is applied. */
    err = weft_config_set_wasm_feature(config, "exception", 9, true);
    CHECK(err && weft_error_kind(err) == WEFT_ERROR_INVALID_ARGUMENT);
    CHECK(contains(weft_error_message(err), "unknown WebAssembly feature \"exception\"; known: simd, "));
    CHECK(contains(weft_error_message(err), "custom-page-sizes, all-proposals"));
    weft_error_delete(err);
    CHECK_ERR(weft_config_wasm_feature(config, "nope", 4, &on), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK(on); /* unchanged */
    err = weft_config_set_wasm_feature(config, "threads", 7, false);
    CHECK(err && contains(weft_error_message(err), "cannot be switched off"));
    weft_error_delete(err);
    CHECK_ERR(set_spec(config, "gc=n,shared-memory=n"), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK(feature(config, "gc"));
    CHECK_ERR(set_spec(config, "simd=perhaps"), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_config_set_wasm_features(config, "", 0), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_config_set_wasm_feature(config, "\xff", 1, true), WEFT_ERROR_INVALID_ARGUMENT);
    CHECK_ERR(weft_config_set_wasm_feature(NULL, "gc", 2, true), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_config_set_wasm_feature(config, NULL, 2, true), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_config_set_wasm_features(config, NULL, 2), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_config_wasm_feature(NULL, "gc", 2, &on), WEFT_ERROR_NULL_ARGUMENT);
    CHECK_ERR(weft_config_wasm_feature(config, "gc", 2, NULL), WEFT_ERROR_NULL_ARGUMENT);
    set_feature(config, "threads", true);

    /* Relaxed SIMD needs SIMD: the engine refuses the pair. */
    {
        weft_engine_t *engine = NULL;
        set_feature(config, "simd", false);
        err = weft_engine_new(config, &engine);
        CHECK(err && weft_error_kind(err) == WEFT_ERROR_INVALID_ARGUMENT);
        CHECK(contains(weft_error_message(err), "\"relaxed-simd\" needs \"simd\""));
        weft_error_delete(err);
        set_feature(config, "relaxed-simd", false);
        CHECK_OK(weft_engine_new(config, &engine));
        weft_engine_delete(engine);
    }
    weft_config_delete(config);

    /* Every proposal: runs with its switch on (from several threads), is
     * refused with it off, the error naming the switch. */
    {
        static const char *const all[] = {
            "simd", "relaxed-simd", "bulk-memory", "multi-value", "reference-types", "tail-call",
            "multi-memory", "memory64", "extended-const", "function-references", "gc",
            "exceptions", "threads", "wide-arithmetic", "custom-page-sizes"};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            const char *name = all[i];
            char want[256];
            config = weft_config_new();
            set_feature(config, name, true);
            CHECK_OK(load_feature(config, name, &module));
            CHECK(run(module, &out) == 0);
            if (strcmp(out, "ok\n") != 0) {
                fprintf(stderr, "%s: stdout %s\n", name, out);
                return 1;
            }
            free(out);
            weft_module_delete(module);
            module = NULL;
            weft_config_delete(config);
            if (strcmp(name, "threads") == 0) continue; /* cannot be off */
            config = weft_config_new();
            set_feature(config, name, false);
            if (strcmp(name, "simd") == 0) set_feature(config, "relaxed-simd", false);
            err = load_feature(config, name, &module);
            snprintf(want, sizeof want, "the module uses the %s proposal, which is switched off (turn it on with weft-run -W %s=y", name, name);
            if (!err || weft_error_kind(err) != WEFT_ERROR_COMPILE || !contains(weft_error_message(err), want)) {
                fprintf(stderr, "%s off: %s\n", name, err ? weft_error_message(err) : "loaded");
                return 1;
            }
            weft_error_delete(err);
            weft_config_delete(config);
        }
    }

    /* An uncaught exception in a thread: a trap of that thread, naming it. */
    {
        weft_engine_t *engine = new_engine(NULL);
        weft_instance_t *inst = NULL;
        int32_t code;
        uint32_t tid = 0;
        module = load_guest(engine, "uncaught_in_thread.wat");
        CHECK_OK(weft_instance_new(module, NULL, NULL, &inst));
        err = weft_instance_run(inst, &code);
        CHECK(err && weft_error_kind(err) == WEFT_ERROR_TRAP);
        CHECK(weft_error_trap_tid(err, &tid) && tid >= 1);
        CHECK(contains(weft_error_message(err), "uncaught exception: thrown Wasm exception (i32 42)"));
        CHECK(contains(weft_error_backtrace(err), "thread_start"));
        weft_error_delete(err);
        weft_instance_delete(inst);
        weft_module_delete(module);
        weft_engine_delete(engine);
    }
    printf("ok\n");
    return 0;
}
