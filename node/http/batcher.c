#include "node/http/batcher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define DEFAULT_MAX_BATCH 256
#define DEFAULT_QUEUE_LIMIT 16384
#define MAX_THREADS 8

struct sp_batcher {
    sp_batcher_config cfg;
    pthread_mutex_t lock; /* queue and stats */
    pthread_cond_t cv;
    sp_batch_job *head, *tail;
    size_t queued;
    int stopping;
    sp_batcher_stats st;
    pthread_t thread;
    int thread_started;
    /* parallel prepare */
    pthread_mutex_t plock;
    pthread_cond_t pcv, pdone;
    pthread_t helpers[MAX_THREADS];
    unsigned n_helpers;
    uint64_t gen;
    int helpers_stop;
    unsigned active;
    sp_batch_job **work;
    size_t n_work;
    atomic_size_t next;
    sp_batch_job **batch; /* max_batch slots */
    sp_envelope *envs;    /* max_batch slots */
};

/* ---- parallel prepare ---- */

static void run_prepare(sp_batcher *b) {
    size_t i;
    while ((i = atomic_fetch_add(&b->next, 1)) < b->n_work) {
        sp_batch_job *j = b->work[i];
        j->prep_rv = j->ops->prepare ? j->ops->prepare(j, j->predicted) : SP_OK;
    }
}

static void *helper_main(void *arg) {
    sp_batcher *b = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&b->plock);
    for (;;) {
        while (b->gen == seen && !b->helpers_stop)
            pthread_cond_wait(&b->pcv, &b->plock);
        if (b->helpers_stop) break;
        seen = b->gen;
        pthread_mutex_unlock(&b->plock);
        run_prepare(b);
        pthread_mutex_lock(&b->plock);
        if (--b->active == 0) pthread_cond_signal(&b->pdone);
    }
    pthread_mutex_unlock(&b->plock);
    return NULL;
}

static void prepare_all(sp_batcher *b, sp_batch_job **jobs, size_t n) {
    b->work = jobs;
    b->n_work = n;
    atomic_store(&b->next, 0);
    if (n < 2 || b->n_helpers == 0) {
        run_prepare(b);
        return;
    }
    pthread_mutex_lock(&b->plock);
    b->active = b->n_helpers;
    b->gen++;
    pthread_cond_broadcast(&b->pcv);
    pthread_mutex_unlock(&b->plock);
    run_prepare(b);
    pthread_mutex_lock(&b->plock);
    while (b->active > 0)
        pthread_cond_wait(&b->pdone, &b->plock);
    pthread_mutex_unlock(&b->plock);
}

/* ---- one batch ---- */

static void count(sp_batcher *b, uint64_t *field, uint64_t n) {
    pthread_mutex_lock(&b->lock);
    *field += n;
    pthread_mutex_unlock(&b->lock);
}

/* Keep the jobs admit accepts; finish the others. Returns how many are kept. */
static size_t admit_all(sp_batcher *b, sp_batch_job **jobs, size_t n) {
    size_t kept = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        sp_err rv = jobs[i]->ops->admit ? jobs[i]->ops->admit(jobs[i], b->cfg.batch_arg) : SP_OK;
        if (rv == SP_OK) {
            jobs[kept++] = jobs[i];
        } else {
            refused++;
            jobs[i]->ops->finish(jobs[i], rv, NULL);
        }
    }
    count(b, &b->st.refused, refused);
    return kept;
}

/* Drop the jobs whose prepare failed (finishing them). */
static size_t drop_unprepared(sp_batcher *b, sp_batch_job **jobs, size_t n) {
    size_t kept = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i]->prep_rv == SP_OK) {
            jobs[kept++] = jobs[i];
        } else {
            failed++;
            jobs[i]->ops->finish(jobs[i], jobs[i]->prep_rv, NULL);
        }
    }
    count(b, &b->st.failed, failed);
    return kept;
}

typedef struct {
    sp_batcher *b;
    sp_batch_job **jobs;
    long failed; /* index of the job whose build failed, -1 */
    sp_err failed_rv;
    uint64_t rebuilt;
} build_ctx;

static sp_err build_one(void *arg, size_t i, uint64_t seq, sp_wbatch *with, uint8_t **body,
                        size_t *len) {
    build_ctx *c = arg;
    sp_batch_job *j = c->jobs[i];
    c->rebuilt += seq != j->predicted;
    sp_err rv = j->ops->build(j, seq, with, body, len);
    if (rv != SP_OK) {
        c->failed = (long)i;
        c->failed_rv = rv;
    }
    return rv;
}

/* Author jobs[0..n) in one durable batch; a job whose build fails is finished with its error
 * and the rest are tried again. */
static void author_all(sp_batcher *b, sp_batch_job **jobs, size_t n) {
    while (n > 0) {
        build_ctx c = {b, jobs, -1, SP_OK, 0};
        sp_err rv = sp_feedlog_author_built(b->cfg.log, n, build_one, &c, b->envs);
        count(b, &b->st.rebuilt, c.rebuilt);
        if (rv == SP_OK) {
            for (size_t i = 0; i < n; i++) {
                jobs[i]->ops->finish(jobs[i], SP_OK, &b->envs[i]);
                sp_envelope_clear(&b->envs[i]);
            }
            count(b, &b->st.authored, n);
            return;
        }
        if (c.failed < 0) { /* the log itself failed: nothing of the batch is stored */
            sp_log_error("batcher.author", "events=%zu error=\"%s\"", n, sp_strerror(rv));
            for (size_t i = 0; i < n; i++)
                jobs[i]->ops->finish(jobs[i], rv, NULL);
            count(b, &b->st.failed, n);
            return;
        }
        sp_batch_job *bad = jobs[c.failed];
        memmove(&jobs[c.failed], &jobs[c.failed + 1], (n - (size_t)c.failed - 1) * sizeof *jobs);
        n--;
        bad->ops->finish(bad, c.failed_rv, NULL);
        count(b, &b->st.failed, 1);
    }
}

static void run_batch(sp_batcher *b, sp_batch_job **jobs, size_t n) {
    n = admit_all(b, jobs, n);
    uint64_t head = sp_feedlog_head(b->cfg.log, sp_feedlog_self(b->cfg.log), NULL);
    for (size_t i = 0; i < n; i++)
        jobs[i]->predicted = head + 1 + i;
    prepare_all(b, jobs, n);
    n = drop_unprepared(b, jobs, n);
    author_all(b, jobs, n);
    if (b->cfg.batch_done) b->cfg.batch_done(b->cfg.batch_arg);
}

/* ---- the batcher thread ---- */

static size_t take(sp_batcher *b, sp_batch_job **jobs) {
    size_t n = 0;
    while (b->head && n < b->cfg.max_batch) {
        jobs[n++] = b->head;
        b->head = b->head->next;
    }
    if (!b->head) b->tail = NULL;
    b->queued -= n;
    b->st.batches++;
    b->st.jobs += n;
    if (n > b->st.max_batch) b->st.max_batch = n;
    return n;
}

static void *batcher_main(void *arg) {
    sp_batcher *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        while (!b->head && !b->stopping)
            pthread_cond_wait(&b->cv, &b->lock);
        if (!b->head) { /* stopping, and everything is done */
            pthread_mutex_unlock(&b->lock);
            break;
        }
        size_t n = take(b, b->batch);
        pthread_mutex_unlock(&b->lock);
        run_batch(b, b->batch, n);
    }
    return NULL;
}

static void stop_helpers(sp_batcher *b) {
    pthread_mutex_lock(&b->plock);
    b->helpers_stop = 1;
    pthread_cond_broadcast(&b->pcv);
    pthread_mutex_unlock(&b->plock);
    for (unsigned i = 0; i < b->n_helpers; i++)
        pthread_join(b->helpers[i], NULL);
    b->n_helpers = 0;
}

static unsigned thread_count(const sp_batcher_config *cfg) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cfg->threads ? cfg->threads : cpus > 0 ? (unsigned)cpus : 1;
    return n > MAX_THREADS ? MAX_THREADS : n;
}

static sp_err start_threads(sp_batcher *b) {
    unsigned want = thread_count(&b->cfg) - 1;
    for (unsigned i = 0; i < want; i++) {
        if (pthread_create(&b->helpers[i], NULL, helper_main, b) != 0) return SP_ERR_IO;
        b->n_helpers++;
    }
    if (pthread_create(&b->thread, NULL, batcher_main, b) != 0) return SP_ERR_IO;
    b->thread_started = 1;
    return SP_OK;
}

sp_err sp_batcher_start(sp_batcher **out, const sp_batcher_config *cfg) {
    sp_batcher *b = calloc(1, sizeof *b);
    if (!b) return SP_ERR_NOMEM;
    b->cfg = *cfg;
    if (!b->cfg.max_batch || b->cfg.max_batch > SP_MAX_BATCH_ENVELOPES)
        b->cfg.max_batch = DEFAULT_MAX_BATCH;
    if (!b->cfg.queue_limit) b->cfg.queue_limit = DEFAULT_QUEUE_LIMIT;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_mutex_init(&b->plock, NULL);
    pthread_cond_init(&b->pcv, NULL);
    pthread_cond_init(&b->pdone, NULL);
    b->batch = calloc(b->cfg.max_batch, sizeof *b->batch);
    b->envs = calloc(b->cfg.max_batch, sizeof *b->envs);
    sp_err rv = b->batch && b->envs ? start_threads(b) : SP_ERR_NOMEM;
    if (rv != SP_OK) {
        sp_log_error("batcher.start", "error=\"%s\"", sp_strerror(rv));
        sp_batcher_stop(b);
        return rv;
    }
    *out = b;
    return SP_OK;
}

sp_err sp_batcher_submit(sp_batcher *b, sp_batch_job *job) {
    sp_err rv = SP_OK;
    job->next = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->stopping)
        rv = SP_ERR_CLOSED;
    else if (b->queued >= b->cfg.queue_limit)
        rv = SP_ERR_TOO_BIG;
    else {
        if (b->tail)
            b->tail->next = job;
        else
            b->head = job;
        b->tail = job;
        b->queued++;
        pthread_cond_signal(&b->cv);
    }
    pthread_mutex_unlock(&b->lock);
    return rv;
}

void sp_batcher_stop(sp_batcher *b) {
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->lock);
    if (b->thread_started) pthread_join(b->thread, NULL);
    stop_helpers(b);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->plock);
    pthread_cond_destroy(&b->pcv);
    pthread_cond_destroy(&b->pdone);
    free(b->batch);
    free(b->envs);
    free(b);
}

void sp_batcher_get_stats(sp_batcher *b, sp_batcher_stats *out) {
    pthread_mutex_lock(&b->lock);
    *out = b->st;
    out->queued = b->queued;
    pthread_mutex_unlock(&b->lock);
}
