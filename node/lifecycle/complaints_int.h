/*
 * Internals shared by node/lifecycle/complaints.c (incremental), complaints_read.c (queries) and
 * complaints_rebuild.c: the key layout of the complaints column family and the writers both
 * maintenance paths use, so that they cannot drift apart.
 */
#ifndef SP_COMPLAINTS_INT_H
#define SP_COMPLAINTS_INT_H

#include "node/lifecycle/complaints.h"

#define SP__CKEY_MAX 200 /* "i/A/" + holder + '/' + id, with room to spare */
#define SP__INDEX_KEYS 5

/* The store a handle works on. */
sp_store *sp__complaints_store(sp_complaints *c);

/* "s/<id>" into key[SP__CKEY_MAX]; returns the length (0 if id is too long). */
size_t sp__state_key(char *key, const char *id);

/* The index keys of a state (none for status NONE). Returns how many were written. */
size_t sp__index_keys(const sp_complaint_state *s, char keys[SP__INDEX_KEYS][SP__CKEY_MAX]);

/* Put the encoded state into b and bring its index keys from old[0..n_old) (the keys of the
 * state it replaces; none for a new one) to the state's: only keys that changed are written.
 * SP_ERR_NOMEM, SP_ERR_INVAL (id too long). */
sp_err sp__put_state(sp_wbatch *b, const sp_complaint_state *s,
                     char old[SP__INDEX_KEYS][SP__CKEY_MAX], size_t n_old);

/* Read and decode the stored state of id; SP_ERR_NOT_FOUND when absent. */
sp_err sp__load_state(sp_store *st, const char *id, sp_complaint_state *out);

/* Write acc's rows into b: added to what the stats column family holds unless fresh (rebuild),
 * deleting rows that become zero. *rows (may be NULL) receives how many rows were written. */
sp_err sp__stats_flush(sp_store *st, sp_wbatch *b, const sp_stats_acc *acc, int fresh,
                       uint64_t *rows);

/* Record SP_COMPLAINTS_FORMAT in the complaints column family (synced). */
sp_err sp__write_format(sp_store *st);

#endif
