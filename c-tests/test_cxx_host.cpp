// A C++17 host: RAII wrappers over the C API, std::thread interrupting a
// run, and host functions as lambdas called from many guest threads.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "weft.h"

namespace {

struct ErrorDeleter {
    void operator()(weft_error_t *e) const { weft_error_delete(e); }
};
using Error = std::unique_ptr<weft_error_t, ErrorDeleter>;

void ok(weft_error_t *raw, const char *what)
{
    Error e(raw);
    if (e) throw std::runtime_error(std::string(what) + ": " + weft_error_message(e.get()));
}

template <typename T, void (*Delete)(T *)>
struct Handle {
    struct D {
        void operator()(T *p) const { Delete(p); }
    };
    std::unique_ptr<T, D> p;
    T *get() const { return p.get(); }
};

using Engine = Handle<weft_engine_t, weft_engine_delete>;
using Module = Handle<weft_module_t, weft_module_delete>;
using Instance = Handle<weft_instance_t, weft_instance_delete>;
using Funcs = Handle<weft_host_funcs_t, weft_host_funcs_delete>;

Engine make_engine()
{
    weft_engine_t *e = nullptr;
    ok(weft_engine_new(nullptr, &e), "engine");
    return Engine{decltype(Engine::p)(e)};
}

Module load(const Engine &engine, const std::string &path)
{
    weft_module_t *m = nullptr;
    ok(weft_module_new_file(engine.get(), path.data(), path.size(), &m), path.c_str());
    return Module{decltype(Module::p)(m)};
}

std::string guest(const char *name) { return std::string(WEFT_TEST_SRC_GUESTS) + "/" + name; }

void host_function_lambdas(const Engine &engine)
{
    Module module = load(engine, guest("host_calls.wat"));
    std::atomic<long> calls{0};
    Funcs funcs{decltype(Funcs::p)(weft_host_funcs_new())};
    const uint32_t two[2] = {WEFT_I32, WEFT_I32}, one = WEFT_I32;
    // A captureless lambda converts to the C callback type.
    weft_host_callback_t add = [](void *env, const weft_caller_t *, const weft_val_t *args, size_t,
                                  weft_val_t *results, size_t) -> weft_error_t * {
        static_cast<std::atomic<long> *>(env)->fetch_add(1);
        results[0].of.i32 = args[0].of.i32 + args[1].of.i32;
        return nullptr;
    };
    weft_host_callback_t report = [](void *, const weft_caller_t *, const weft_val_t *args, size_t,
                                     weft_val_t *, size_t) -> weft_error_t * {
        return args[0].of.i32 == 1000 ? nullptr : weft_error_new("bad sum", 7);
    };
    ok(weft_host_funcs_define(funcs.get(), "host", 4, "add", 3, two, 2, &one, 1, add, &calls, nullptr), "define");
    ok(weft_host_funcs_define(funcs.get(), "host", 4, "report", 6, &one, 1, nullptr, 0, report, nullptr, nullptr),
       "define");
    weft_instance_t *raw = nullptr;
    ok(weft_instance_new(module.get(), nullptr, funcs.get(), &raw), "instance");
    Instance inst{decltype(Instance::p)(raw)};
    int32_t code = -1;
    ok(weft_instance_run(inst.get(), &code), "run");
    if (code != 0 || calls.load() != 8000) throw std::runtime_error("wrong result from host_calls.wat");
    std::printf("lambdas ok: %ld calls\n", calls.load());
}

void interrupt_from_std_thread(const Engine &engine)
{
    Module module = load(engine, guest("outcomes.wat"));
    static int32_t mode = 6;  // everyone spins
    Funcs funcs{decltype(Funcs::p)(weft_host_funcs_new())};
    const uint32_t one = WEFT_I32;
    weft_host_callback_t mode_cb = [](void *env, const weft_caller_t *, const weft_val_t *, size_t,
                                      weft_val_t *results, size_t) -> weft_error_t * {
        results[0].of.i32 = *static_cast<int32_t *>(env);
        return nullptr;
    };
    ok(weft_host_funcs_define(funcs.get(), "test", 4, "mode", 4, nullptr, 0, &one, 1, mode_cb, &mode, nullptr),
       "define");
    weft_instance_t *raw = nullptr;
    ok(weft_instance_new(module.get(), nullptr, funcs.get(), &raw), "instance");
    Instance inst{decltype(Instance::p)(raw)};
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ok(weft_instance_interrupt(inst.get()), "interrupt");
    });
    int32_t code = -1;
    Error e(weft_instance_run(inst.get(), &code));
    stopper.join();
    if (!e || weft_error_kind(e.get()) != WEFT_ERROR_INTERRUPTED)
        throw std::runtime_error("expected WEFT_ERROR_INTERRUPTED");
    std::printf("interrupt ok: %s\n", weft_error_message(e.get()));
}

}  // namespace

int main()
{
    try {
        static_assert(WEFT_VERSION >= 100, "weft >= 0.1");
        Engine engine = make_engine();
        host_function_lambdas(engine);
        interrupt_from_std_thread(engine);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "FAILED: %s\n", e.what());
        return 1;
    }
    return 0;
}
