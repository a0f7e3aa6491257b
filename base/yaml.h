/*
 * The only door to libyaml: this file's yaml.c owns every yaml_* call. It turns a YAML buffer
 * into a small tree of scalars, sequences and mappings that remember where they were written
 * (1-based line and column), so that the validator can say exactly where a problem is.
 *
 * What it refuses (as diagnostics, never by crashing): syntax errors, more than one document,
 * aliases (they would let a small file expand without bound), nesting deeper than
 * SP__YAML_MAX_DEPTH, mapping keys that are not strings or hold a NUL, and duplicate keys in one
 * mapping (reported, the later value kept).
 * Scalars are kept as text exactly as written; tags are ignored. Internal to topology/.
 */
#ifndef SP_TOPOLOGY_YAML_H
#define SP_TOPOLOGY_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/err.h"

#define SP__YAML_MAX_DEPTH 32

/* One source file: its display name and its index in load order (the diagnostics sort key). */
typedef struct sp__src {
    const char *name;
    uint32_t idx;
} sp__src;

typedef enum { SP__Y_SCALAR, SP__Y_SEQ, SP__Y_MAP } sp__ytype;

typedef struct sp__ynode sp__ynode;
struct sp__ynode {
    sp__ytype type;
    int plain;          /* scalar written without quotes */
    uint32_t line, col; /* 1-based start of the node */
    const sp__src *src; /* file it comes from */
    const char *str;    /* scalar: text, NUL-terminated (may hold NULs: see len) */
    size_t len;         /* scalar: bytes in str */
    size_t n;           /* sequence: items; mapping: key/value pairs */
    sp__ynode **kids;   /* sequence: n items; mapping: 2n entries key0, value0, key1, ... */
};

/* Parses buf[0..len) as one YAML document. On SP_OK *root is the document's node, or NULL for
 * an empty document. The tree and its strings live in arena a; src is borrowed and must outlive
 * the tree. Returns SP_ERR_CONFIG after reporting the problem(s) into d, or SP_ERR_NOMEM. */
sp_err sp__yaml_parse(const sp__ynode **root, const sp__src *src, const char *buf, size_t len,
                      sp__arena *a, sp__diags *d);

/* "a string", "a sequence", "a mapping": for messages about a node of the wrong type. */
const char *sp__ytype_name(const sp__ynode *n);

/* Reports an error (warning != 0: a warning) at the position of YAML node `at`. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void sp__report(sp__diags *d, int warning, const sp__ynode *at, const char *fmt, ...);

#endif
