/*
 * libyaml's event API drives a small explicit stack of open containers; each container's
 * children collect in a growable buffer of the stack frame and are copied into the arena when
 * the container closes. Nothing here recurses, so hostile nesting cannot exhaust the C stack,
 * and the depth limit bounds the frames.
 */
#include "base/yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/idmap.h"

/* Beyond this many keys in one mapping, duplicate keys are found with a hash map. */
#define DUP_LINEAR_MAX 16

typedef struct frame {
    sp__ynode *node;
    sp__ynode **kids;
    size_t n, cap;
} frame;

typedef struct builder {
    const sp__src *src;
    sp__arena *a;
    sp__diags *d;
    frame stack[SP__YAML_MAX_DEPTH];
    size_t depth;
    const sp__ynode *root;
    int n_docs;
    int bad; /* a fatal error was reported: the tree is not usable */
} builder;

const char *sp__ytype_name(const sp__ynode *n) {
    if (!n) return "nothing";
    switch (n->type) {
    case SP__Y_SCALAR:
        return "a string";
    case SP__Y_SEQ:
        return "a sequence";
    default:
        return "a mapping";
    }
}

static void report(builder *b, yaml_mark_t m, const char *msg, const char *detail) {
    sp__diag_add(b->d, 0, b->src->name, b->src->idx, (uint32_t)m.line + 1, (uint32_t)m.column + 1,
                 "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
    b->bad = 1;
}

static sp__ynode *new_node(builder *b, sp__ytype type, yaml_mark_t m) {
    sp__ynode *n = sp__arena_alloc(b->a, sizeof *n);
    if (!n) return NULL;
    n->type = type;
    n->line = (uint32_t)m.line + 1;
    n->col = (uint32_t)m.column + 1;
    n->src = b->src;
    return n;
}

static sp_err frame_push_kid(frame *f, sp__ynode *kid) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        sp__ynode **kids = realloc(f->kids, cap * sizeof *kids);
        if (!kids) return SP_ERR_NOMEM;
        f->kids = kids;
        f->cap = cap;
    }
    f->kids[f->n++] = kid;
    return SP_OK;
}

/* Attaches a finished node to the open container, or makes it the document root. */
static sp_err attach(builder *b, sp__ynode *n) {
    if (b->depth == 0) {
        b->root = n;
        return SP_OK;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->type == SP__Y_MAP && f->n % 2 == 0 && n->type != SP__Y_SCALAR) {
        sp__diag_add(b->d, 0, b->src->name, b->src->idx, n->line, n->col,
                     "a mapping key must be a plain string, not %s", sp__ytype_name(n));
        b->bad = 1;
    } else if (f->node->type == SP__Y_MAP && f->n % 2 == 0 && strlen(n->str) != n->len) {
        sp__diag_add(b->d, 0, b->src->name, b->src->idx, n->line, n->col,
                     "a mapping key must not contain a NUL character");
        b->bad = 1;
    }
    return frame_push_kid(f, n);
}

static sp_err on_scalar(builder *b, const yaml_event_t *ev) {
    sp__ynode *n = new_node(b, SP__Y_SCALAR, ev->start_mark);
    if (!n) return SP_ERR_NOMEM;
    n->len = ev->data.scalar.length;
    n->str = sp__arena_strndup(b->a, (const char *)ev->data.scalar.value, n->len);
    if (!n->str) return SP_ERR_NOMEM;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n);
}

static sp_err on_start(builder *b, const yaml_event_t *ev, sp__ytype type) {
    if (b->depth == SP__YAML_MAX_DEPTH) {
        report(b, ev->start_mark, "nesting is too deep", NULL);
        return SP_ERR_CONFIG;
    }
    sp__ynode *n = new_node(b, type, ev->start_mark);
    if (!n) return SP_ERR_NOMEM;
    frame *f = &b->stack[b->depth++];
    f->node = n;
    f->n = 0;
    return SP_OK;
}

static void report_dup_key(builder *b, const sp__ynode *first, const sp__ynode *again) {
    sp__diag_add(b->d, 0, b->src->name, b->src->idx, again->line, again->col,
                 "duplicate key '%s' (first at line %u)", again->str, (unsigned)first->line);
    /* Not fatal: the tree stays usable (the later value wins) so validation can go on. */
}

/* Keys of a mapping are in kids[0], kids[2], ...; reports each key that repeats an earlier. */
static sp_err check_dup_keys(builder *b, const sp__ynode *map) {
    sp_err rv = SP_OK;
    sp_idmap seen = SP_IDMAP_INIT;
    for (size_t i = 0; i < map->n; i++) {
        const sp__ynode *k = map->kids[2 * i];
        if (k->type != SP__Y_SCALAR) continue;
        if (map->n <= DUP_LINEAR_MAX) {
            for (size_t j = 0; j < i; j++) {
                const sp__ynode *e = map->kids[2 * j];
                if (e->type == SP__Y_SCALAR && strcmp(e->str, k->str) == 0) {
                    report_dup_key(b, e, k);
                    break;
                }
            }
            continue;
        }
        size_t first = 0;
        rv = sp_idmap_put(&seen, k->str, 2 * i, &first);
        if (rv == SP_ERR_EXISTS)
            report_dup_key(b, map->kids[first], k);
        else if (rv != SP_OK)
            goto out;
        rv = SP_OK;
    }
out:
    sp_idmap_free(&seen);
    return rv;
}

static sp_err on_end(builder *b) {
    frame *f = &b->stack[--b->depth];
    sp__ynode *n = f->node;
    n->n = n->type == SP__Y_MAP ? f->n / 2 : f->n;
    if (f->n) {
        n->kids = sp__arena_alloc(b->a, f->n * sizeof *n->kids);
        if (!n->kids) return SP_ERR_NOMEM;
        memcpy(n->kids, f->kids, f->n * sizeof *n->kids);
    }
    if (n->type == SP__Y_MAP) {
        sp_err rv = check_dup_keys(b, n);
        if (rv != SP_OK) return rv;
    }
    return attach(b, n);
}

static sp_err on_event(builder *b, const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->n_docs > 1) {
            report(b, ev->start_mark, "only one YAML document per file", NULL);
            return SP_ERR_CONFIG;
        }
        return SP_OK;
    case YAML_ALIAS_EVENT:
        report(b, ev->start_mark, "aliases (*name) are not supported", NULL);
        return SP_ERR_CONFIG;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, SP__Y_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, SP__Y_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    default:
        return SP_OK;
    }
}

/* libyaml's reader (encoding) errors carry a byte offset rather than a mark: make one. */
static yaml_mark_t reader_mark(const char *buf, size_t len, size_t offset) {
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (buf[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            m.column++; /* columns count characters, as in libyaml's own marks */
        }
    }
    return m;
}

static void report_parser_error(builder *b, const yaml_parser_t *p, const char *buf, size_t len) {
    const char *problem = p->problem ? p->problem : "malformed YAML";
    yaml_mark_t at = p->problem_mark;
    if (p->error == YAML_MEMORY_ERROR) return;
    if (p->error == YAML_READER_ERROR) at = reader_mark(buf, len, p->problem_offset);
    if (p->context)
        sp__diag_add(b->d, 0, b->src->name, b->src->idx, (uint32_t)at.line + 1,
                     (uint32_t)at.column + 1, "YAML syntax error: %s %s", problem, p->context);
    else
        report(b, at, "YAML syntax error", problem);
    b->bad = 1;
}

sp_err sp__yaml_parse(const sp__ynode **root, const sp__src *src, const char *buf, size_t len,
                      sp__arena *a, sp__diags *d) {
    sp_err rv = SP_OK;
    builder b = {.src = src, .a = a, .d = d};
    yaml_parser_t p;
    *root = NULL;
    if (!yaml_parser_initialize(&p)) return SP_ERR_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    for (int done = 0; !done && rv == SP_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            report_parser_error(&b, &p, buf, len);
            rv = p.error == YAML_MEMORY_ERROR ? SP_ERR_NOMEM : SP_ERR_CONFIG;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rv = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    for (size_t i = 0; i < SP__YAML_MAX_DEPTH; i++)
        free(b.stack[i].kids);
    yaml_parser_delete(&p);
    if (rv == SP_OK && b.bad) rv = SP_ERR_CONFIG;
    if (rv == SP_OK) *root = b.root;
    return rv;
}

void sp__report(sp__diags *d, int warning, const sp__ynode *at, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sp__diag_add(d, warning, at->src->name, at->src->idx, at->line, at->col, "%s", msg);
}
