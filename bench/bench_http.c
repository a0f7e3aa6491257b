/*
 * bench_http: complaints acknowledged per second by one running node's HTTP intake.
 *
 *   bench_http --port PORT [--host 127.0.0.1] [--clients 64] [--seconds 10] [--warmup 1]
 *              [--privacy public|anonymous|confidential] [--region 35.77]
 *              [--category infrastruktur/pju]
 *   bench_http --smoke [--port PORT] [options]
 *
 * N keep-alive HTTP/1.1 connections (plain sockets, one thread, poll) each POST a complaint to
 * /api/v1/complaints, wait for the answer, and post the next. Only 201 answers count: each one
 * means the complaint was sealed, signed, chained and fsynced (group commit) before the reply.
 * Prints acknowledged complaints per second, answers by status, and latency percentiles.
 *
 * --smoke (for CTest): 4 clients for 1 s after 0.2 s of warm-up, and every answer must be a 201
 * over unbroken connections. Without --port it starts a node of its own in this process
 * (tests/integration/node_fixture.h: Kota Madiun, data under /dev/shm), so CTest needs no
 * running federation; options given still apply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "tests/integration/node_fixture.h"

#define MAX_CLIENTS 1024
#define RBUF 8192

typedef struct {
    int fd;
    char req[2048];
    size_t req_len, sent;
    char rbuf[RBUF];
    size_t rlen;
    double started;
} conn;

typedef struct {
    const char *host, *privacy, *region, *category;
    int port, clients, smoke;
    double seconds, warmup;
} opts;

static struct {
    uint64_t ok, other, by_status[600], failures;
    double *lat;
    size_t n_lat, cap_lat;
} st;

static void usage(void) {
    fputs("usage: bench_http --port PORT [--host H] [--clients N] [--seconds S] [--warmup S]\n"
          "                  [--privacy P] [--region CODE] [--category C]\n"
          "       bench_http --smoke [--port PORT] [options]\n",
          stderr);
    exit(2);
}

static void parse(int argc, char **argv, opts *o) {
    static const struct option lo[] = {{"host", required_argument, NULL, 'h'},
                                       {"port", required_argument, NULL, 'p'},
                                       {"clients", required_argument, NULL, 'c'},
                                       {"seconds", required_argument, NULL, 's'},
                                       {"warmup", required_argument, NULL, 'w'},
                                       {"privacy", required_argument, NULL, 'v'},
                                       {"region", required_argument, NULL, 'r'},
                                       {"category", required_argument, NULL, 'g'},
                                       {"smoke", no_argument, NULL, 'S'},
                                       {0}};
    *o = (opts){"127.0.0.1", "public", "35.77", "infrastruktur/pju", 0, 64, 0, 10, 1};
    for (int i = 1; i < argc; i++) /* --smoke first: the options given still apply */
        if (strcmp(argv[i], "--smoke") == 0)
            *o = (opts){"127.0.0.1", "public", "35.77", "infrastruktur/pju", 0, 4, 1, 1, 0.2};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'h')
            o->host = optarg;
        else if (c == 'p')
            o->port = atoi(optarg);
        else if (c == 'c')
            o->clients = atoi(optarg);
        else if (c == 's')
            o->seconds = atof(optarg);
        else if (c == 'w')
            o->warmup = atof(optarg);
        else if (c == 'v')
            o->privacy = optarg;
        else if (c == 'r')
            o->region = optarg;
        else if (c == 'g')
            o->category = optarg;
        else if (c != 'S')
            usage();
    }
    if (optind < argc) usage();
    if ((o->port <= 0 && !o->smoke) || o->clients < 1 || o->clients > MAX_CLIENTS ||
        o->seconds <= 0)
        usage();
}

/* A realistic complaint: a title, two sentences, a location and a reporter to seal. */
static void make_request(conn *c, const opts *o, unsigned n) {
    char body[1024];
    int bl = snprintf(body, sizeof body,
                      "{\"title\":\"Lampu jalan mati %u\",\"body\":\"Lampu penerangan jalan di Jl. "
                      "Pahlawan no. %u mati sejak minggu lalu. Jalan menjadi gelap dan rawan.\","
                      "\"category\":\"%s\",\"region\":\"%s\",\"privacy\":\"%s\","
                      "\"location\":{\"lat\":-7.6298,\"lon\":111.5239},"
                      "\"reporter\":{\"name\":\"Warga %u\",\"phone\":\"+62812%07u\"}}",
                      n, n, o->category, o->region, o->privacy, n, n % 10000000);
    c->req_len = (size_t)snprintf(c->req, sizeof c->req,
                                  "POST /api/v1/complaints HTTP/1.1\r\nHost: %s:%d\r\n"
                                  "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                                  o->host, o->port, bl, body);
    c->sent = 0;
    c->rlen = 0;
}

static int dial(const opts *o) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (fd < 0 || inet_pton(AF_INET, o->host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("bench_http: connect");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static const char *find(const char *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return hay + i;
    return NULL;
}

/* A complete response in c->rbuf: its status, and its length; 0 when incomplete. */
static size_t response_done(const conn *c, int *status) {
    const char *end = find(c->rbuf, c->rlen, "\r\n\r\n");
    if (!end) return 0;
    const char *cl = find(c->rbuf, (size_t)(end - c->rbuf), "Content-Length:");
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0, head = (size_t)(end - c->rbuf) + 4;
    if (c->rlen < head + body) return 0;
    *status = atoi(c->rbuf + 9);
    return head + body;
}

static void record(int status, double latency, int measuring) {
    if (!measuring) return;
    if (status == 201)
        st.ok++;
    else
        st.other++;
    if (status > 0 && status < 600) st.by_status[status]++;
    if (st.n_lat == st.cap_lat) {
        st.cap_lat = st.cap_lat ? 2 * st.cap_lat : 65536;
        st.lat = realloc(st.lat, st.cap_lat * sizeof *st.lat);
        if (!st.lat) exit(1);
    }
    st.lat[st.n_lat++] = latency;
}

/* Progress one connection; returns -1 when it broke. */
static int step(conn *c, short revents, const opts *o, unsigned *counter, int measuring) {
    if (revents & POLLOUT && c->sent < c->req_len) {
        ssize_t w = write(c->fd, c->req + c->sent, c->req_len - c->sent);
        if (w < 0 && errno != EAGAIN) return -1;
        if (w > 0) c->sent += (size_t)w;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR))) return 0;
    ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
    if (r <= 0) return -1;
    c->rlen += (size_t)r;
    int status;
    if (!response_done(c, &status)) return c->rlen == RBUF ? -1 : 0;
    double t = sp_bench_now_s();
    record(status, t - c->started, measuring);
    make_request(c, o, (*counter)++);
    c->started = t;
    return 0;
}

static void report(const opts *o, double elapsed) {
    qsort(st.lat, st.n_lat, sizeof *st.lat, sp_bench_cmp_double);
    double p50 = st.n_lat ? st.lat[st.n_lat / 2] : 0,
           p99 = st.n_lat ? st.lat[st.n_lat * 99 / 100] : 0;
    double mx = st.n_lat ? st.lat[st.n_lat - 1] : 0;
    printf("bench_http: %d keep-alive clients, %.1f s measured (after %.1f s warm-up), privacy %s, "
           "region %s\n",
           o->clients, elapsed, o->warmup, o->privacy, o->region);
    printf("  acknowledged (201, durable): %llu  ->  %.0f complaints/s\n",
           (unsigned long long)st.ok, (double)st.ok / elapsed);
    for (int s = 0; s < 600; s++)
        if (st.by_status[s] && s != 201)
            printf("  status %d: %llu\n", s, (unsigned long long)st.by_status[s]);
    if (st.failures) printf("  broken connections: %llu\n", (unsigned long long)st.failures);
    printf("  latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50 * 1e3, p99 * 1e3, mx * 1e3);
}

/* Run the clients for o->warmup + o->seconds against the node at o->host:o->port. */
static void run(const opts *o) {
    conn *cs = calloc((size_t)o->clients, sizeof *cs);
    struct pollfd *pf = calloc((size_t)o->clients, sizeof *pf);
    if (!cs || !pf) exit(1);
    unsigned counter = (unsigned)time(NULL) % 100000 * 1000;
    double t0 = sp_bench_now_s();
    for (int i = 0; i < o->clients; i++) {
        cs[i].fd = dial(o);
        make_request(&cs[i], o, counter++);
        cs[i].started = t0;
    }
    double start = t0 + o->warmup, end = start + o->seconds, t;
    while ((t = sp_bench_now_s()) < end) {
        for (int i = 0; i < o->clients; i++)
            pf[i] = (struct pollfd){
                cs[i].fd, (short)(POLLIN | (cs[i].sent < cs[i].req_len ? POLLOUT : 0)), 0};
        if (poll(pf, (nfds_t)o->clients, 100) < 0 && errno != EINTR) exit(1);
        for (int i = 0; i < o->clients; i++) {
            if (!pf[i].revents || step(&cs[i], pf[i].revents, o, &counter, t >= start) == 0)
                continue;
            st.failures++; /* reconnect and carry on */
            close(cs[i].fd);
            cs[i].fd = dial(o);
            make_request(&cs[i], o, counter++);
            cs[i].started = sp_bench_now_s();
        }
    }
    report(o, end - start);
    for (int i = 0; i < o->clients; i++)
        close(cs[i].fd);
    free(cs);
    free(pf);
}

/* --smoke without --port: a node of our own, stopped (and its folder removed) at exit, which
 * also covers the exit(1) of a failed connection. */
static sp_fixture fixture;

static void stop_fixture(void) {
    sp_fixture_stop(&fixture);
}

int main(int argc, char **argv) {
    opts o;
    parse(argc, argv, &o);
    if (o.port <= 0) {
        sp_err rv = sp_fixture_start(&fixture, "error");
        if (rv != SP_OK) {
            fprintf(stderr, "bench_http: starting a node: %s\n", sp_strerror(rv));
            return 1;
        }
        atexit(stop_fixture);
        o.port = fixture.port;
    }
    run(&o);
    free(st.lat);
    if (!st.ok) return 1;
    if (o.smoke && (st.other || st.failures)) { /* a smoke run accepts nothing but 201 */
        fprintf(stderr, "bench_http: %llu answers other than 201, %llu broken connections\n",
                (unsigned long long)st.other, (unsigned long long)st.failures);
        return 1;
    }
    return 0;
}
