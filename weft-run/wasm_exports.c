#include "wasm_exports.h"

#include <string.h>

struct reader {
    const uint8_t *p, *end;
    int bad;
};

static uint32_t leb_u32(struct reader *r)
{
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (r->p >= r->end) break;
        uint8_t b = *r->p++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

static void skip(struct reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        r->p = r->end;
    } else {
        r->p += n;
    }
}

static uint8_t byte(struct reader *r)
{
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

/* Skips a limits structure (memories, tables). */
static void skip_limits(struct reader *r)
{
    uint8_t flags = byte(r);
    int is64 = flags & 4;
    if (is64) {
        r->bad = 1; /* memory64: not needed here */
        return;
    }
    leb_u32(r);
    if (flags & 1) leb_u32(r);
}

int wasm_export_result_count(const uint8_t *wasm, size_t len, const char *name, size_t *nresults)
{
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    struct reader r = {wasm, wasm + len, 0};
    const uint8_t *types = NULL, *types_end = NULL, *funcs = NULL, *funcs_end = NULL;
    uint32_t imported_funcs = 0;
    size_t name_len = strlen(name);

    if (len < 8 || memcmp(wasm, magic, 8) != 0) return -1;
    r.p += 8;
    while (r.p < r.end && !r.bad) {
        uint8_t id = byte(&r);
        uint32_t size = leb_u32(&r);
        struct reader s = {r.p, r.p + size, 0};
        skip(&r, size);
        if (r.bad) break;
        if (id == 1) {
            types = s.p;
            types_end = s.end;
        } else if (id == 2) {
            uint32_t n = leb_u32(&s);
            for (uint32_t i = 0; i < n && !s.bad; i++) {
                skip(&s, leb_u32(&s)); /* module */
                skip(&s, leb_u32(&s)); /* name */
                uint8_t kind = byte(&s);
                if (kind == 0) {
                    leb_u32(&s);
                    imported_funcs++;
                } else if (kind == 1) {
                    byte(&s);
                    skip_limits(&s);
                } else if (kind == 2) {
                    skip_limits(&s);
                } else if (kind == 3) {
                    byte(&s);
                    byte(&s);
                } else {
                    s.bad = 1;
                }
            }
            if (s.bad) return -1;
        } else if (id == 3) {
            funcs = s.p;
            funcs_end = s.end;
        } else if (id == 7) {
            uint32_t n = leb_u32(&s);
            for (uint32_t i = 0; i < n && !s.bad; i++) {
                uint32_t nl = leb_u32(&s);
                const uint8_t *nm = s.p;
                skip(&s, nl);
                uint8_t kind = byte(&s);
                uint32_t index = leb_u32(&s);
                if (s.bad || kind != 0 || nl != name_len || memcmp(nm, name, nl) != 0) continue;
                /* Found: map the function index to its type index. */
                if (index < imported_funcs || !funcs || !types) return -1;
                struct reader f = {funcs, funcs_end, 0};
                uint32_t nf = leb_u32(&f), type_index = 0;
                if (index - imported_funcs >= nf) return -1;
                for (uint32_t k = 0; k <= index - imported_funcs; k++) type_index = leb_u32(&f);
                struct reader t = {types, types_end, 0};
                uint32_t nt = leb_u32(&t);
                if (f.bad || type_index >= nt) return -1;
                for (uint32_t k = 0; !t.bad; k++) {
                    if (byte(&t) != 0x60) return -1; /* only plain func types */
                    skip(&t, leb_u32(&t));         /* params (numeric: one byte each) */
                    uint32_t nr = leb_u32(&t);
                    if (k == type_index) {
                        if (t.bad) return -1;
                        *nresults = nr;
                        return 0;
                    }
                    skip(&t, nr);
                }
                return -1;
            }
            return s.bad ? -1 : -2;
        }
    }
    return r.bad ? -1 : -2;
}

/* ---- WAT text: a small s-expression scan, enough for hand-written modules ---- */

struct wat {
    const char *p, *end;
};

/* Skips whitespace and comments. */
static void wat_space(struct wat *w)
{
    while (w->p < w->end) {
        if (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r') {
            w->p++;
        } else if (w->end - w->p >= 2 && w->p[0] == ';' && w->p[1] == ';') {
            while (w->p < w->end && *w->p != '\n') w->p++;
        } else if (w->end - w->p >= 2 && w->p[0] == '(' && w->p[1] == ';') {
            int depth = 0;
            do {
                if (w->end - w->p >= 2 && w->p[0] == '(' && w->p[1] == ';') depth++, w->p += 2;
                else if (w->end - w->p >= 2 && w->p[0] == ';' && w->p[1] == ')') depth--, w->p += 2;
                else w->p++;
            } while (depth > 0 && w->p < w->end);
        } else {
            break;
        }
    }
}

/* Skips one s-expression or atom (including strings). */
static void wat_skip(struct wat *w)
{
    int depth = 0;
    wat_space(w);
    do {
        if (w->p >= w->end) return;
        char c = *w->p;
        if (c == '"') {
            for (w->p++; w->p < w->end && *w->p != '"'; w->p++)
                if (*w->p == '\\') w->p++;
            w->p++;
        } else if (c == '(') {
            depth++;
            w->p++;
        } else if (c == ')') {
            depth--;
            w->p++;
        } else {
            while (w->p < w->end && !strchr(" \t\r\n()\"", *w->p)) w->p++;
        }
        if (depth > 0) wat_space(w);
    } while (depth > 0);
}

/* If the next thing is "(word", consumes it and returns 1. */
static int wat_open(struct wat *w, const char *word)
{
    size_t n = strlen(word);
    struct wat t = *w;
    wat_space(&t);
    if (t.p >= t.end || *t.p != '(') return 0;
    t.p++;
    wat_space(&t);
    if ((size_t)(t.end - t.p) < n || memcmp(t.p, word, n) != 0) return 0;
    if (t.p + n < t.end && !strchr(" \t\r\n()", t.p[n])) return 0;
    t.p += n;
    *w = t;
    return 1;
}

/* Reads an atom (identifier or string with its quotes) into [*s, *e). */
static void wat_atom(struct wat *w, const char **s, const char **e)
{
    wat_space(w);
    *s = w->p;
    if (w->p < w->end && *w->p != '(' && *w->p != ')') wat_skip(w);
    *e = w->p;
}

static int atom_is_string(const char *s, const char *e, const char *name)
{
    size_t n = strlen(name);
    return e - s == (ptrdiff_t)n + 2 && s[0] == '"' && memcmp(s + 1, name, n) == 0;
}

/* At a func's fields (after "(func"): counts results in its header;
 * sets *exported when an inline (export "name") matches. */
static size_t wat_func_header(struct wat *w, const char *name, int *exported, const char **id, const char **id_end)
{
    size_t results = 0;
    const char *s, *e;
    *id = *id_end = NULL;
    wat_space(w);
    if (w->p < w->end && *w->p == '$') {
        wat_atom(w, &s, &e);
        *id = s;
        *id_end = e;
    }
    for (;;) {
        struct wat save = *w;
        if (wat_open(w, "export")) {
            wat_atom(w, &s, &e);
            if (atom_is_string(s, e, name)) *exported = 1;
            while (wat_space(w), w->p < w->end && *w->p != ')') wat_skip(w);
            w->p++;
        } else if (wat_open(w, "import") || wat_open(w, "type") || wat_open(w, "param") ||
                   wat_open(w, "local")) {
            *w = save;
            wat_skip(w);
        } else if (wat_open(w, "result")) {
            while (wat_space(w), w->p < w->end && *w->p != ')') {
                wat_skip(w);
                results++;
            }
            w->p++;
        } else {
            return results;
        }
    }
}

static int wat_export_result_count(const char *text, size_t len, const char *name, size_t *nresults)
{
    struct wat w = {text, text + len};
    const char *target = NULL, *target_end = NULL;
    /* Two passes: first find a separate (export "name" (func $id)), then the func. */
    for (int pass = 0; pass < 2; pass++) {
        w.p = text;
        if (!wat_open(&w, "module")) return -1;
        wat_space(&w);
        if (w.p < w.end && *w.p == '$') wat_skip(&w);
        while (wat_space(&w), w.p < w.end && *w.p == '(') {
            struct wat field = w;
            if (pass == 0 && wat_open(&field, "export")) {
                const char *s, *e;
                wat_atom(&field, &s, &e);
                if (atom_is_string(s, e, name) && wat_open(&field, "func")) {
                    wat_atom(&field, &target, &target_end);
                }
            } else if (pass == 1 && wat_open(&field, "func")) {
                int exported = 0;
                const char *id, *id_end;
                size_t n = wat_func_header(&field, name, &exported, &id, &id_end);
                if (exported || (target && id && id_end - id == target_end - target &&
                                 memcmp(id, target, (size_t)(id_end - id)) == 0)) {
                    *nresults = n;
                    return 0;
                }
            }
            wat_skip(&w);
        }
    }
    return -2;
}

int wat_or_wasm_export_result_count(const uint8_t *wasm, size_t len, const char *name, size_t *nresults)
{
    int r = wasm_export_result_count(wasm, len, name, nresults);
    if (r == -1 && (len < 4 || memcmp(wasm, "\0asm", 4) != 0))
        r = wat_export_result_count((const char *)wasm, len, name, nresults);
    return r;
}
