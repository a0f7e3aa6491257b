/*
 * Group commit for events authored on behalf of HTTP requests (intake and officer actions).
 *
 * One batcher thread takes every queued job (up to max_batch), and authors them with ONE
 * sp_feedlog_author_built call: one WriteBatch, one fsync for the whole batch. A request is
 * answered only after its batch is durable, so "201 Created" always means "on disk".
 *
 * A batch goes through four steps:
 *  1. admit   sequentially, in queue order, on the batcher thread: the job decides whether it
 *             is authored (actions check the fold's verdict here, against the complaint's state
 *             plus the jobs admitted before it in the same batch);
 *  2. prepare in parallel on `threads` threads: the expensive part (sealing, for intake) is
 *             done for the seq the job will most likely get (head + 1 + its position);
 *  3. build   under the feed log's lock, in order: the job hands over its body for the seq it
 *             really gets (the prepared one, or rebuilt if another writer took seqs between);
 *  4. finish  once per job, with the stored envelope or the error.
 * A body that depends on its seq is rebuilt in step 3 when the seq changed; step 2 only makes
 * the common case fast and keeps crypto out of the log's lock. (Intake bodies are sealed for
 * the filing number given in step 1, so they never need rebuilding.)
 *
 * Thread-safety: submit may be called from any thread. Callbacks run on the batcher thread
 * (admit, build, finish) or a helper thread (prepare); a job belongs to the batcher from a
 * successful submit until its finish.
 */
#ifndef SP_BATCHER_H
#define SP_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "broker/feedlog.h"

typedef struct sp_batch_job sp_batch_job;

typedef struct {
    /* SP_OK to author the job in this batch; any other value finishes it with that value. */
    sp_err (*admit)(sp_batch_job *job, void *batch_arg);
    /* Optional: precompute the body for seq (errors finish the job, unauthored). */
    sp_err (*prepare)(sp_batch_job *job, uint64_t seq);
    /* The malloc'ed body for seq. An error here aborts the batch: the job is finished with it
     * and the other jobs are authored again without it. Records put into `with` are stored
     * with the event, atomically (sp_body_builder). */
    sp_err (*build)(sp_batch_job *job, uint64_t seq, sp_wbatch *with, uint8_t **body, size_t *len);
    /* Called exactly once. env (borrowed for the call) is the stored envelope when rv is
     * SP_OK. The job may be freed here. */
    void (*finish)(sp_batch_job *job, sp_err rv, const sp_envelope *env);
} sp_batch_job_ops;

/* Embed in the job's own struct; set ops before submitting. */
struct sp_batch_job {
    const sp_batch_job_ops *ops;
    /* private */
    sp_batch_job *next;
    uint64_t predicted;
    sp_err prep_rv;
};

typedef struct {
    sp_feedlog *log;    /* borrowed; must outlive the batcher */
    size_t max_batch;   /* jobs per batch; default 256 */
    size_t queue_limit; /* queued jobs before submit refuses; default 16384 */
    unsigned threads;   /* threads for prepare, the batcher's included; default: CPUs (<= 8) */
    /* Optional: called on the batcher thread after every batch (batch_arg of admit). */
    void (*batch_done)(void *batch_arg);
    void *batch_arg;
} sp_batcher_config;

typedef struct {
    uint64_t batches, jobs, authored, refused, failed, rebuilt, max_batch, queued;
} sp_batcher_stats;

typedef struct sp_batcher sp_batcher;

/* Start the batcher thread and its helpers. The caller owns *out. SP_ERR_NOMEM, SP_ERR_IO
 * (a thread could not start). */
sp_err sp_batcher_start(sp_batcher **out, const sp_batcher_config *cfg);
/* Queue a job. SP_OK: finish will be called exactly once. SP_ERR_CLOSED (stopping) or
 * SP_ERR_TOO_BIG (queue full): the job is not taken and finish is never called. */
sp_err sp_batcher_submit(sp_batcher *b, sp_batch_job *job);
/* Author everything queued, finish it, then stop the threads and free. Accepts NULL. */
void sp_batcher_stop(sp_batcher *b);
/* A snapshot of the counters. Thread-safe. */
void sp_batcher_get_stats(sp_batcher *b, sp_batcher_stats *out);

#endif
