#include "node/app/sla_timer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "broker/hlc.h"
#include "schemas/simpul.pb-c.h"

#define PAGE 500

struct sp_sla_timer {
    const sp_daemon_parts *parts;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
};

typedef struct {
    char complaint[SP_TRACKING_ID_MAX];
    sp_due_action act;
} due;

/* The body of one due action: Escalated{to, reason} or Completed{summary}, actor "system". */
static sp_err build_due(void *arg, size_t i, uint64_t seq, sp_wbatch *with, uint8_t **body,
                        size_t *len) {
    (void)with;
    const due *d = &((const due *)arg)[i];
    Simpul__V1__Event ev = SIMPUL__V1__EVENT__INIT;
    Simpul__V1__Escalated esc = SIMPUL__V1__ESCALATED__INIT;
    Simpul__V1__Completed done = SIMPUL__V1__COMPLETED__INIT;
    ev.complaint_id = (char *)d->complaint;
    ev.actor = (char *)"simpul-sla";
    ev.actor_role = (char *)"system";
    if (d->act.kind == SP_EV_ESCALATED) {
        esc.to_agency = (char *)d->act.target;
        esc.reason = (char *)d->act.reason;
        ev.body_case = SIMPUL__V1__EVENT__BODY_ESCALATED;
        ev.escalated = &esc;
    } else {
        done.summary = (char *)d->act.reason;
        ev.body_case = SIMPUL__V1__EVENT__BODY_COMPLETED;
        ev.completed = &done;
    }
    *len = simpul__v1__event__get_packed_size(&ev);
    if (!(*body = malloc(*len))) return SP_ERR_NOMEM;
    simpul__v1__event__pack(&ev, *body);
    return SP_OK;
}

/* Collect the actions due on one page that this node authors. */
static size_t collect(const sp_daemon_parts *p, const sp_complaint_page *page, uint64_t now,
                      due *out) {
    size_t n = 0;
    for (size_t i = 0; i < page->n; i++) {
        sp_due_action acts[2];
        size_t k = sp_fold_due_actions(p->fold, &page->v[i], now, acts, 2);
        for (size_t j = 0; j < k; j++) {
            if (strcmp(acts[j].author, p->self->id) != 0) continue;
            strcpy(out[n].complaint, page->v[i].id);
            out[n++].act = acts[j];
        }
    }
    return n;
}

/* Every page of complaints matching f: author what is due. */
static sp_err check_filter(const sp_daemon_parts *p, const sp_complaint_filter *f, uint64_t now,
                           size_t *authored) {
    char cursor[SP_CURSOR_MAX] = "";
    due *due_now = calloc(2 * PAGE, sizeof *due_now);
    sp_err rv = due_now ? SP_OK : SP_ERR_NOMEM;
    do {
        sp_complaint_page page = {0};
        if (rv == SP_OK) rv = sp_complaints_list(p->complaints, f, cursor, PAGE, &page);
        size_t n = rv == SP_OK ? collect(p, &page, now, due_now) : 0;
        if (n) rv = sp_feedlog_author_built(p->log, n, build_due, due_now, NULL);
        if (rv == SP_OK) *authored += n;
        snprintf(cursor, sizeof cursor, "%s", rv == SP_OK ? page.next : "");
        sp_complaint_page_free(&page);
    } while (rv == SP_OK && cursor[0]);
    free(due_now);
    return rv;
}

sp_err sp_sla_check(const sp_daemon_parts *p, uint64_t now_ms, size_t *authored) {
    *authored = 0;
    /* Breached deadlines: the overdue index. */
    sp_complaint_filter overdue = {.overdue_only = 1, .now_ms = now_ms};
    sp_err rv = check_filter(p, &overdue, now_ms, authored);
    /* Auto-completion: complaints in progress at this agency. */
    sp_complaint_filter mine = {.status_mask = 1u << SP_ST_IN_PROGRESS, .agency = p->self->id,
                                .now_ms = now_ms};
    if (rv == SP_OK) rv = check_filter(p, &mine, now_ms, authored);
    if (*authored) sp_log_info("sla.authored", "node=%s events=%zu", p->self->id, *authored);
    return rv;
}

static void *timer_main(void *arg) {
    sp_sla_timer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += SP_SLA_TIMER_MS / 1000;
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        if (t->stopping) break;
        pthread_mutex_unlock(&t->lock);
        size_t n;
        sp_err rv = sp_sla_check(t->parts, sp_wall_ms(), &n);
        if (rv != SP_OK) sp_log_warn("sla.check", "error=%s", sp_errname(rv));
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

sp_err sp_sla_timer_start(sp_sla_timer **out, const sp_daemon_parts *parts) {
    sp_sla_timer *t = calloc(1, sizeof *t);
    if (!t) return SP_ERR_NOMEM;
    t->parts = parts;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        free(t);
        return SP_ERR_NOMEM;
    }
    *out = t;
    return SP_OK;
}

void sp_sla_timer_stop(sp_sla_timer *t) {
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
