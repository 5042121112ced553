/*
 * sse-loadgen: the load tool of Benchmarks/compare.py. One process, one thread, one epoll loop that plays
 * both sides of an SSE path on 127.0.0.1:
 *   - the backend: listens on --backend PORT, answers every `GET /s/<id>` with `200 text/event-stream`
 *     (chunked, or close-delimited with --close-delimited) and sends events on the workload's schedule.
 *     Each event is one send() and carries its send time (CLOCK_MONOTONIC ns, read just before send()):
 *     `data: <send_ns> <seq>[ padding]\n\n`;
 *   - the clients: open streams to --target PORT (the proxy under test, or the backend itself for the
 *     direct path), read them, decode chunked framing and SSE lines, and timestamp every event and every
 *     comment line (`: heartbeat`) twice: with the kernel's receive timestamp (SO_TIMESTAMPNS, moved to
 *     CLOCK_MONOTONIC; on loopback it is taken inside the sender's send(), so through a proxy it is the moment
 *     the proxy wrote the bytes) and with CLOCK_MONOTONIC read right after recvmsg() returned ("app").
 * It samples the proxy's CPU (each process's CPU-time clock, clock_getcpuclockid: nanoseconds, summed over --pids),
 * RSS (VmRSS from /proc/PID/status, summed over --rss-pids) and context switches (summed over the threads in
 * /proc/PID/task) at the edges of each measured window (and each thread's CPU, /proc/PID/task/TID/schedstat, as
 * "proxy_threads"), its own CPU
 * (getrusage), so a reader can see it was not the bottleneck, and the
 * whole machine's busy CPU (/proc/stat), so a reader can see what else ran meanwhile. One workload per run; the
 * result is one JSON object on stdout, progress on stderr (-v).
 *
 * Workloads (see Benchmarks/compare.py for the figures drawn from them):
 *   latency     --streams N --duration S: one event per stream per second, spread evenly over the second
 *               (the streams taken in a fixed shuffled order: see schedule_order)
 *   throughput  --streams N --duration S --event-size B [--paced-rate R --paced-duration S2] [--batch K]:
 *               first (when R > 0) R events/s spread over the streams (in the same shuffled order), one send() per
 *               event; then B-byte events
 *               as fast as the sockets take them, K per send(); events/s at the clients, CPU per event
 *   memory      --streams N: N idle streams (head + one event); proxy RSS before/after
 *   heartbeats  --streams N --duration S --interval-ms I: N silent streams (head only); every comment
 *               line's lateness = arrival - (arrival of the previous bytes on the stream + I)
 *   teardown    --streams N: N streams closed one at a time with FIN, then N with RST; the time until the
 *               backend's read() sees the end of its connection
 *   connrate    --steps R1,R2,.. --step-duration S: new streams per second (connect, request, first event,
 *               close), stepped up until the path degrades
 *   hbsource    --backend PORT --interval-ms I (no --target): the heartbeat floor's sender, run as its own process
 *               and measured as the proxy is. Only the backend side: every `GET /s/<id>` gets the head and then,
 *               every I ms, the bytes ssekeeper sends a chunked HTTP/1.1 client as a heartbeat (`: heartbeat`
 *               in one chunk), one send() each, from one epoll loop that wakes when the earliest stream is due
 *               and sends it and every one due within 4 ms after it (ssekeeper's timer leeway). Runs until
 *               SIGTERM or SIGINT, then prints {"heartbeats_sent": N, "send_failures": M}. The heartbeats
 *               workload measures it with --remote-backend (the streams' requests reach this process, not the
 *               load tool's backend).
 *
 * Exit status: 0 when the run completed (the JSON says whether anything was lost), 2 on setup errors.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
#define MS 1000000LL
#define HEAD_MAX 1024
#define LINE_MAX_LEN 256
#define MAX_PIDS 16
#define MAX_BATCH 8
/* connection rate: streams waiting for their first event at most; beyond it a step has failed anyway, and the
 * client and backend descriptors of this many streams stay well inside RLIMIT_NOFILE (20,000 here) */
#define CONNRATE_MAX_IN_FLIGHT 8000

enum kind { K_LISTEN = 1, K_CLIENT, K_BACKEND };
enum cstate { C_CONNECTING = 1, C_HEAD, C_BODY, C_ENDED, C_FAILED };
enum chunk_state { CS_SIZE = 0, CS_EXT, CS_DATA, CS_DATA_END, CS_DONE };
enum workload { W_LATENCY = 1, W_THROUGHPUT, W_MEMORY, W_HEARTBEATS, W_TEARDOWN, W_CONNRATE, W_HBSOURCE };

typedef struct conn {
    int fd;
    uint8_t kind, state, chunked, cstate, line_overflow, writable, in_wlist, dead;
    int32_t id;
    int32_t live_idx;      /* connrate: 1 + index in the list of streams awaiting their first event, 0 = none */
    int64_t t_start;       /* client: before connect() */
    int64_t last_kts;      /* client: kernel rx time of the previous read */
    int64_t first_event_kts, first_event_app;
    int64_t next_seq;      /* client: expected next seq; backend: next seq to send */
    uint64_t chunk_rem, chunk_size;
    uint32_t events, heartbeats, gaps;
    uint16_t hlen, llen, pend_len, pend_off;
    int64_t t_end;         /* backend: when read() saw the end; client: when closed */
    char head[HEAD_MAX];
    char line[LINE_MAX_LEN];
    char pend[160 * MAX_BATCH];
    struct conn *next_dead;
} conn_t;

/* ---------------------------------------------------------------- options */
static enum workload wl;
static int target_port, backend_port;
static int nstreams = 100;
static double duration_s = 10;
static int event_size = 100;
static double interval_ms = 1000;
static int close_delimited;
static int concurrency = 256;
static int pids[MAX_PIDS], npids, rss_pids[MAX_PIDS], nrss;
static double step_duration_s = 2;
static int steps[64], nsteps;
static double connrate_p99_ms = 10;
static int paced_rate = 0;
static int batch = 1;   /* events per send() in the saturated phase of the throughput workload */
static double paced_duration_s = 5;
static double ttfe_timeout_s = 2;
static int verbose;
static int remote_backend;  /* heartbeats: the target answers the streams itself (hbsource); no backend here */

/* ---------------------------------------------------------------- globals */
static int ep;
static conn_t listener;
static conn_t **cli, **bak;          /* by stream id */
static int64_t clock_offset;         /* CLOCK_REALTIME - CLOCK_MONOTONIC, see measure_clock_offset */
static int64_t clock_offset_at;      /* monotonic time it was last measured */
static uint64_t clock_steps;         /* times it was found to have moved by more than 50 us */
static uint8_t rbuf[1 << 18];
static int recording;                /* events/heartbeats in the measured window are recorded */
static conn_t *dead_list;
static conn_t **cr_live;              /* connrate: streams awaiting their first event */
static size_t cr_nlive, cr_caplive;
static uint64_t cr_done;

typedef struct { int64_t *v; size_t n, cap; } samples_t;
static samples_t lat_k, lat_app, hb_late, ttfe;
static uint64_t rec_events, rec_heartbeats, total_events, total_heartbeats, total_gaps, send_failures;
static uint64_t backend_requests, bad_status, conn_errors, resets, ttfe_timeouts, addr_errors;
static uint64_t sent_events, accept_emfile;
static int64_t late_beyond_interval;  /* heartbeats later than one whole interval */
static int64_t max_sched_lag;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS + ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, which turns the kernel's receive timestamps (SO_TIMESTAMPNS, realtime) into
 * monotonic time. Measured again every 100 ms and whenever a timestamp comes out later than the read that
 * returned it: a virtual machine's realtime clock can be stepped (by tens of ms, seen on the benchmark VM), and an
 * offset measured once then shifted every kernel-clock latency of the run by the step. */
static void measure_clock_offset(void) {
    struct timespec m1, r, m2;
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    int64_t mono = (m1.tv_sec * NS + m1.tv_nsec + m2.tv_sec * NS + m2.tv_nsec) / 2;
    int64_t offset = r.tv_sec * NS + r.tv_nsec - mono;
    if (clock_offset_at && llabs(offset - clock_offset) > 50000) clock_steps++;
    clock_offset = offset;
    clock_offset_at = mono;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sse-loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void note(const char *fmt, ...) {
    if (!verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sse-loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void push(samples_t *s, int64_t v) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof(int64_t));
        if (!s->v) die("out of memory");
    }
    s->v[s->n++] = v;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile, in ms */
static double pct(samples_t *s, double p) {
    if (!s->n) return -1;
    size_t rank = (size_t)((p / 100.0) * s->n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > s->n) rank = s->n;
    return s->v[rank - 1] / 1e6;
}

static void print_samples(const char *name, samples_t *s) {
    qsort(s->v, s->n, sizeof(int64_t), cmp64);
    printf("\"%s\": {\"n\": %zu, \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"p999\": %.4f, \"max\": %.4f}",
           name, s->n, pct(s, 50), pct(s, 90), pct(s, 99), pct(s, 99.9), pct(s, 100));
}

/* ---------------------------------------------------------------- /proc sampling */
/* The CPU the processes have used so far, to the nanosecond: each one's CPU-time clock (clock_getcpuclockid, the
 * scheduler's runtime summed over its threads, those that ended included). /proc/PID/stat's utime+stime hold the
 * same total but in USER_HZ (10 ms) steps, +-10 % of a proxy that uses 0.2 s in a 2 s window. */
static double cpu_seconds(const int *ps, int n) {
    double total = 0;
    for (int i = 0; i < n; i++) {
        clockid_t clock;
        struct timespec ts;
        if (clock_getcpuclockid(ps[i], &clock) != 0 || clock_gettime(clock, &ts) != 0) return -1;
        total += ts.tv_sec + ts.tv_nsec / 1e9;
    }
    return total;
}

static long rss_kib(const int *ps, int n) {
    long total = 0;
    for (int i = 0; i < n; i++) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", ps[i]);
        FILE *f = fopen(path, "r");
        if (!f) return -1;
        long v = -1;
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6)) { v = atol(line + 6); break; }
        fclose(f);
        if (v < 0) return -1;
        total += v;
    }
    return total;
}

/* Context switches (voluntary + involuntary) summed over the threads of the processes alive now; a thread that
 * ends inside a window takes its count with it, so for a proxy whose threads come and go this undercounts. */
static long long ctx_switches(const int *ps, int n) {
    long long total = 0;
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", ps[i]);
        DIR *d = opendir(path);
        if (!d) return -1;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char sp[300], line[256];
            snprintf(sp, sizeof sp, "/proc/%d/task/%s/status", ps[i], e->d_name);
            FILE *f = fopen(sp, "r");
            if (!f) continue;
            while (fgets(line, sizeof line, f)) {
                if (!strncmp(line, "voluntary_ctxt_switches:", 24)) total += atoll(line + 24);
                else if (!strncmp(line, "nonvoluntary_ctxt_switches:", 27)) total += atoll(line + 27);
            }
            fclose(f);
        }
        closedir(d);
    }
    return total;
}

/* The whole machine's busy and stolen CPU-seconds so far (/proc/stat), so a reader can see what else ran. */
static void machine_cpu(double *busy, double *steal) {
    unsigned long long v[10] = { 0 };
    *busy = *steal = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
               &v[7]) == 8) {
        long hz = sysconf(_SC_CLK_TCK);
        *busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;  /* user nice system irq softirq */
        *steal = (double)v[7] / hz;
    }
    fclose(f);
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int procs_alive(void) {
    for (int i = 0; i < npids; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
        FILE *f = fopen(path, "r");
        if (!f) return 0;
        char buf[512];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *p = strrchr(buf, ')');
        if (!p || p[2] == 'Z') return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- sockets */

static void ep_add(conn_t *c, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl add: %s", strerror(errno));
}

static void ep_mod(conn_t *c, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(conn_t *c, int rst) {
    if (c->fd < 0) return;
    if (rst) {
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->fd = -1;
}

/* Frees a connection after the current batch of epoll events (a later event of the batch may point at it). */
static void live_remove(conn_t *c);

static void conn_free_later(conn_t *c) {
    if (c->dead) return;
    live_remove(c);
    c->dead = 1;
    c->next_dead = dead_list;
    dead_list = c;
}

static void live_remove(conn_t *c) {
    if (!c->live_idx) return;
    size_t i = (size_t)c->live_idx - 1;
    conn_t *last = cr_live[--cr_nlive];
    cr_live[i] = last;
    last->live_idx = (int32_t)i + 1;
    c->live_idx = 0;
}

static void reap(void) {
    while (dead_list) {
        conn_t *c = dead_list;
        dead_list = c->next_dead;
        if (c->kind == K_CLIENT && c->id >= 0 && cli && wl != W_CONNRATE && cli[c->id] == c) cli[c->id] = NULL;
        if (c->kind == K_BACKEND && c->id >= 0 && bak && wl != W_CONNRATE && bak[c->id] == c) bak[c->id] = NULL;
        free(c);
    }
}

/* Keeps the kernel's receive timestamping switched on for the whole run. The first socket with SO_TIMESTAMPNS
 * enables a static key (netstamp_needed_key) and the last one's destruction disables it, each time through a
 * kernel worker that rewrites code on every CPU (text poke, an IPI to each CPU). With short streams (connrate,
 * teardown) the count of timestamping sockets falls to zero between streams, and the key flipped thousands of
 * times per run on the CPU that destroyed the last socket, the proxy's: `perf record -C <proxy cpu>` at 3,000 new
 * streams/s showed kworker in static_key_disable at 4.8 % of that CPU behind ssekeeper and 1.2 % behind nginx.
 * An idle UDP socket with the option set keeps the count above zero, so neither proxy pays for the load tool's
 * timestamps. Best effort: a failure only brings the flips back. */
static void hold_timestamping(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    /* fd stays open until exit */
}

static conn_t *client_open(int id) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { conn_errors++; return NULL; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    conn_t *c = calloc(1, sizeof *c);
    if (!c) die("out of memory");
    c->fd = fd;
    c->kind = K_CLIENT;
    c->id = id;
    c->state = C_CONNECTING;
    c->t_start = now_ns();
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(target_port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        if (errno == EADDRNOTAVAIL) addr_errors++;
        conn_errors++;
        close(fd);
        free(c);
        return NULL;
    }
    ep_add(c, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
    return c;
}

static void client_fail(conn_t *c) {
    if (c->state != C_FAILED && c->state != C_ENDED) {
        c->state = C_FAILED;
        conn_errors++;
    }
    conn_close(c, 0);
    if (wl == W_CONNRATE) conn_free_later(c);
}

/* ---------------------------------------------------------------- backend side */
static const char chunked_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
static const char close_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";

/* Sends what is pending on a backend connection; returns 1 when it all went, 0 when the socket is full. */
static int backend_flush(conn_t *b) {
    while (b->pend_off < b->pend_len) {
        ssize_t n = send(b->fd, b->pend + b->pend_off, b->pend_len - b->pend_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) { b->pend_off += n; continue; }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
    b->pend_off = b->pend_len = 0;
    return 1;
}

/* Decimal digits of v at out; returns how many. */
static int put_u64(char *out, uint64_t v) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* Builds `count` events (each framed as its own chunk unless close-delimited), stamps each with the time now, and
 * sends them with one send(). Returns 1 sent whole, 0 partly sent (the rest is pending), -1 failed. */
static int backend_send_events(conn_t *b, int size, int count) {
    int off = 0;
    int64_t t = now_ns();
    for (int k = 0; k < count; k++) {
        char payload[160];
        memcpy(payload, "data: ", 6);
        int len = 6;
        len += put_u64(payload + len, (uint64_t)t);
        payload[len++] = ' ';
        len += put_u64(payload + len, (uint64_t)b->next_seq);
        if (size > 0 && len < size - 2) {
            memset(payload + len, 'x', size - 2 - len);
            payload[len] = ' ';
            len = size - 2;
        }
        payload[len++] = '\n';
        payload[len++] = '\n';
        if (!close_delimited) {
            static const char hex[] = "0123456789abcdef";
            if (len >= 16) b->pend[off++] = hex[len >> 4];
            b->pend[off++] = hex[len & 15];
            b->pend[off++] = '\r';
            b->pend[off++] = '\n';
        }
        memcpy(b->pend + off, payload, len);
        off += len;
        if (!close_delimited) { b->pend[off++] = '\r'; b->pend[off++] = '\n'; }
        b->next_seq++;
        sent_events++;
    }
    b->pend_len = off;
    b->pend_off = 0;
    int r = backend_flush(b);
    if (r < 0) send_failures++;
    return r;
}

static int backend_send_event(conn_t *b, int size) { return backend_send_events(b, size, 1); }

static void backend_send_raw(conn_t *b, const char *p, size_t n) {
    ssize_t w = send(b->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w != (ssize_t)n) send_failures++;
}

/* hbsource: the streams in the order their next heartbeat is due (every stream has the same interval, so a FIFO
 * ring is that order), with the time each is due. */
static conn_t **hb_ring;
static int64_t *hb_due;
static size_t hb_first, hb_count, hb_cap;
static uint64_t hb_sent;

static void hb_push(conn_t *b, int64_t due) {
    if (hb_count == hb_cap) {
        size_t cap = hb_cap ? hb_cap * 2 : 1024;
        conn_t **ring = malloc(cap * sizeof *ring);
        int64_t *dues = malloc(cap * sizeof *dues);
        if (!ring || !dues) die("out of memory");
        for (size_t i = 0; i < hb_count; i++) {
            ring[i] = hb_ring[(hb_first + i) % hb_cap];
            dues[i] = hb_due[(hb_first + i) % hb_cap];
        }
        free(hb_ring);
        free(hb_due);
        hb_ring = ring;
        hb_due = dues;
        hb_first = 0;
        hb_cap = cap;
    }
    size_t at = (hb_first + hb_count++) % hb_cap;
    hb_ring[at] = b;
    hb_due[at] = due;
}

/* The request is complete: answer with the head, and the first event where the workload wants one. */
static void backend_on_request(conn_t *b) {
    backend_requests++;
    int id = -1;
    if (!strncmp(b->head, "GET /s/", 7)) id = atoi(b->head + 7);
    if (wl == W_HBSOURCE) {
        backend_send_raw(b, chunked_head, sizeof chunked_head - 1);
        hb_push(b, now_ns() + (int64_t)(interval_ms * MS));
        return;
    }
    if (wl != W_CONNRATE) {
        if (id < 0 || id >= nstreams * (wl == W_TEARDOWN ? 2 : 1)) { conn_close(b, 0); conn_free_later(b); return; }
        b->id = id;
        bak[id] = b;
    }
    if (close_delimited) backend_send_raw(b, close_head, sizeof close_head - 1);
    else backend_send_raw(b, chunked_head, sizeof chunked_head - 1);
    if (wl == W_MEMORY || wl == W_TEARDOWN || wl == W_CONNRATE) backend_send_event(b, 0);
}

static void backend_on_readable(conn_t *b) {
    for (;;) {
        char buf[4096];
        ssize_t n = recv(b->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (b->state == C_HEAD) {
                size_t room = HEAD_MAX - 1 - b->hlen;
                size_t take = (size_t)n < room ? (size_t)n : room;
                memcpy(b->head + b->hlen, buf, take);
                b->hlen += take;
                b->head[b->hlen] = 0;
                if (strstr(b->head, "\r\n\r\n")) { b->state = C_BODY; backend_on_request(b); if (b->fd < 0) return; }
                else if (b->hlen >= HEAD_MAX - 1) { conn_close(b, 0); conn_free_later(b); return; }
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        /* the peer closed or reset: the end of this stream, as the backend sees it */
        b->t_end = now_ns();
        b->state = C_ENDED;
        conn_close(b, 0);
        if (wl == W_CONNRATE) conn_free_later(b);
        return;
    }
}

static void backend_accept(void) {
    for (;;) {
        int fd = accept4(listener.fd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EMFILE || errno == ENFILE) {
                /* out of descriptors: refuse this connection (it counts as an error on the client side) */
                if (wl != W_CONNRATE) die("backend accept: %s", strerror(errno));
                accept_emfile++;
                return;
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_t *b = calloc(1, sizeof *b);
        if (!b) die("out of memory");
        b->fd = fd;
        b->kind = K_BACKEND;
        b->id = -1;
        b->state = C_HEAD;
        ep_add(b, EPOLLIN | EPOLLRDHUP);
    }
}

/* ---------------------------------------------------------------- client side: SSE lines */
/* A decimal number after optional spaces; stops at the first other byte or at `end`. */
static inline int64_t parse_num(const char **pp, const char *end) {
    const char *p = *pp;
    while (p < end && *p == ' ') p++;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    *pp = p;
    return v;
}

static void on_line(conn_t *c, const char *line, size_t len, int64_t kts, int64_t app) {
    if (len == 0) return;
    if (line[0] == ':') {
        total_heartbeats++;
        c->heartbeats++;
        if (recording && wl == W_HEARTBEATS && c->last_kts) {
            int64_t expected = c->last_kts + (int64_t)(interval_ms * MS);
            int64_t late = kts - expected;
            push(&hb_late, late);
            if (late > (int64_t)(interval_ms * MS)) late_beyond_interval++;
            rec_heartbeats++;
        }
        return;
    }
    if (len > 6 && !memcmp(line, "data: ", 6)) {
        const char *q = line + 6, *end = line + len;
        int64_t t = parse_num(&q, end);
        int64_t seq = parse_num(&q, end);
        total_events++;
        c->events++;
        if (seq != c->next_seq) { c->gaps++; total_gaps++; }
        c->next_seq = seq + 1;
        if (!c->first_event_kts) { c->first_event_kts = kts; c->first_event_app = app; }
        if (recording) {
            rec_events++;
            if (wl == W_LATENCY) { push(&lat_k, kts - t); push(&lat_app, app - t); }
        }
    }
}

static void line_append(conn_t *c, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r') continue;
        if (c->llen < LINE_MAX_LEN - 1) c->line[c->llen++] = p[i];
        else c->line_overflow = 1;
    }
}

/* Splits SSE bytes into lines (CR is dropped; the streams here end lines with LF). A line that lies whole in this
 * read is parsed where it lies; only a line cut by a read boundary is collected in the stream's line buffer. */
static void sse_feed(conn_t *c, const uint8_t *p, size_t n, int64_t kts, int64_t app) {
    while (n) {
        const uint8_t *q = memchr(p, '\n', n);
        if (!q) { line_append(c, p, n); return; }
        size_t take = (size_t)(q - p);
        if (c->llen == 0) {
            size_t len = take;
            if (len && p[len - 1] == '\r') len--;
            on_line(c, (const char *)p, len, kts, app);
        } else {
            line_append(c, p, take);
            c->line[c->llen] = 0;
            on_line(c, c->line, c->llen, kts, app);
            c->llen = 0;
            c->line_overflow = 0;
        }
        n -= take + 1;
        p = q + 1;
    }
}

static void body_feed(conn_t *c, const uint8_t *p, size_t n, int64_t kts, int64_t app) {
    if (!c->chunked) { sse_feed(c, p, n, kts, app); return; }
    while (n) {
        switch (c->cstate) {
        case CS_SIZE: {
            uint8_t ch = *p++; n--;
            if (isxdigit(ch)) c->chunk_size = c->chunk_size * 16 + (isdigit(ch) ? ch - '0' : (tolower(ch) - 'a' + 10));
            else if (ch == ';') c->cstate = CS_EXT;
            else if (ch == '\n') goto size_done;
            break;
        }
        case CS_EXT: {
            uint8_t ch = *p++; n--;
            if (ch == '\n') goto size_done;
            break;
        }
        case CS_DATA: {
            size_t take = n < c->chunk_rem ? n : (size_t)c->chunk_rem;
            sse_feed(c, p, take, kts, app);
            p += take; n -= take; c->chunk_rem -= take;
            if (!c->chunk_rem) c->cstate = CS_DATA_END;
            break;
        }
        case CS_DATA_END: {
            uint8_t ch = *p++; n--;
            if (ch == '\n') c->cstate = CS_SIZE;
            break;
        }
        case CS_DONE:
            return;
        }
        continue;
    size_done:
        if (c->chunk_size == 0) { c->cstate = CS_DONE; c->state = C_ENDED; return; }
        c->chunk_rem = c->chunk_size;
        c->chunk_size = 0;
        c->cstate = CS_DATA;
    }
}

static void head_done(conn_t *c, size_t head_len) {
    c->head[head_len] = 0;
    if (strncmp(c->head, "HTTP/1.", 7) || strncmp(c->head + 8, " 200", 4)) { bad_status++; client_fail(c); return; }
    for (char *q = c->head; *q; q++) *q = tolower((unsigned char)*q);
    c->chunked = strstr(c->head, "\ntransfer-encoding:") && strstr(c->head, "chunked");
    c->state = C_BODY;
}

static void connrate_done(conn_t *c);

static void client_on_readable(conn_t *c) {
    for (;;) {
        char cbuf[CMSG_SPACE(sizeof(struct timespec))];
        struct iovec iov = { rbuf, sizeof rbuf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
        int64_t app = now_ns();
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            if (n < 0) resets++;
            if (c->state != C_ENDED) client_fail(c);
            else { conn_close(c, 0); if (wl == W_CONNRATE) conn_free_later(c); }
            return;
        }
        int64_t kts = app;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                kts = ts.tv_sec * NS + ts.tv_nsec - clock_offset;
                if (kts > app) {  /* received after it was read: the realtime clock moved */
                    measure_clock_offset();
                    kts = ts.tv_sec * NS + ts.tv_nsec - clock_offset;
                    if (kts > app) kts = app;
                }
            }
        const uint8_t *p = rbuf;
        size_t len = (size_t)n;
        if (c->state == C_HEAD) {
            size_t room = HEAD_MAX - 1 - c->hlen, take = len < room ? len : room;
            memcpy(c->head + c->hlen, p, take);
            size_t old = c->hlen;
            c->hlen += take;
            c->head[c->hlen] = 0;
            char *end = strstr(c->head, "\r\n\r\n");
            if (!end) {
                if (c->hlen >= HEAD_MAX - 1) { client_fail(c); return; }
                c->last_kts = kts;
                continue;
            }
            size_t head_len = (size_t)(end - c->head) + 4;
            head_done(c, head_len);
            if (c->state != C_BODY) return;
            p += head_len - old;
            len -= head_len - old;
        }
        if (len) body_feed(c, p, len, kts, app);
        c->last_kts = kts;
        if (wl == W_CONNRATE && c->first_event_kts) { connrate_done(c); return; }
    }
}

static void client_on_writable(conn_t *c) {
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) { client_fail(c); return; }
    char req[160];
    int n = snprintf(req, sizeof req, "GET /s/%d HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
                     wl == W_CONNRATE ? 0 : c->id);
    if (send(c->fd, req, n, MSG_NOSIGNAL) != n) { client_fail(c); return; }
    c->state = C_HEAD;
    ep_mod(c, EPOLLIN | EPOLLRDHUP);
}

/* ---------------------------------------------------------------- the loop */
static void dispatch(struct epoll_event *ev) {
    conn_t *c = ev->data.ptr;
    if (c->dead || c->fd < 0) return;
    if (c->kind == K_LISTEN) { backend_accept(); return; }
    if (c->kind == K_BACKEND) {
        if (ev->events & EPOLLOUT) {
            c->writable = 1;
            if (c->pend_len && backend_flush(c) < 0) send_failures++;
        }
        if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) backend_on_readable(c);
        return;
    }
    if (c->state == C_CONNECTING) {
        if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) client_on_writable(c);
        return;
    }
    if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_on_readable(c);
}

/* Runs the loop once, waiting at most until `deadline` (monotonic ns; 0 = do not wait). */
static void poll_once(int64_t deadline) {
    struct epoll_event evs[512];
    struct timespec to = { 0, 0 };
    if (deadline) {
        int64_t d = deadline - now_ns();
        if (d < 0) d = 0;
        to.tv_sec = d / NS;
        to.tv_nsec = d % NS;
    }
    int n = epoll_pwait2(ep, evs, 512, &to, NULL);
    if (n < 0 && errno != EINTR) die("epoll_pwait2: %s", strerror(errno));
    if (now_ns() - clock_offset_at > 100 * MS) measure_clock_offset();
    for (int i = 0; i < n; i++) dispatch(&evs[i]);
    reap();
}

static void run_for(int64_t ns) {
    int64_t end = now_ns() + ns;
    while (now_ns() < end) poll_once(end);
}

/* Opens streams [from, to) with at most `concurrency` connecting at once, and waits until each has its head
 * (and its first event when `want_event`) and the backend holds its request. Returns the number that failed. */
static int open_streams(int from, int to, int want_event, double timeout_s) {
    int64_t deadline = now_ns() + (int64_t)(timeout_s * NS);
    int next = from, failed = 0;
    for (;;) {
        int pending = 0, ready = 0;
        for (int i = from; i < next; i++) {
            conn_t *c = cli[i];
            if (!c || c->state == C_FAILED) continue;
            int ok = c->state == C_BODY && (!want_event || c->events > 0) && (bak[i] || remote_backend);
            if (ok) ready++; else pending++;
        }
        while (next < to && pending < concurrency) {
            cli[next] = client_open(next);
            if (cli[next]) pending++;
            next++;
        }
        if (next == to && pending == 0) break;
        if (now_ns() > deadline) break;
        poll_once(now_ns() + 2 * MS);
    }
    for (int i = from; i < to; i++) {
        conn_t *c = cli[i];
        if (!c || c->state != C_BODY || (!bak[i] && !remote_backend) || (want_event && !c->events)) failed++;
    }
    return failed;
}

static void close_all(int n) {
    for (int i = 0; i < n; i++) {
        if (cli[i]) { conn_close(cli[i], 0); free(cli[i]); cli[i] = NULL; }
    }
    run_for(200 * MS);
    for (int i = 0; i < n; i++) {
        if (bak[i]) { conn_close(bak[i], 0); free(bak[i]); bak[i] = NULL; }
    }
}

/* ---------------------------------------------------------------- workloads */
/* One thread of a proxy process and its CPU so far: utime+stime ticks of /proc/PID/task/TID/stat, and the
 * nanoseconds it ran, from /proc/PID/task/TID/schedstat (the scheduler's sum_exec_runtime; -1 when unreadable, and
 * then the ticks are used: USER_HZ, 10 ms steps); `wait_ns`, schedstat's second field, the nanoseconds it spent
 * runnable but waiting for a CPU (run_delay: woken while another task held its CPU, or preempted). */
typedef struct { int pid, tid; unsigned long long ticks; long long ns, wait_ns; } thread_cpu_t;
#define MAX_THREADS 256

/* Every thread of the --pids processes alive now, at most `cap`; returns how many. */
static int thread_cpus(thread_cpu_t *out, int cap) {
    int n = 0;
    for (int i = 0; i < npids; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", pids[i]);
        DIR *d = opendir(path);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d)) && n < cap) {
            if (e->d_name[0] == '.') continue;
            char sp[300], buf[1024];
            snprintf(sp, sizeof sp, "/proc/%d/task/%s/stat", pids[i], e->d_name);
            FILE *f = fopen(sp, "r");
            if (!f) continue;
            size_t len = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[len] = 0;
            char *p = strrchr(buf, ')');
            unsigned long long ut = 0, st = 0;
            if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) continue;
            long long ns = -1, wait_ns = -1;
            snprintf(sp, sizeof sp, "/proc/%d/task/%s/schedstat", pids[i], e->d_name);
            if ((f = fopen(sp, "r"))) {
                if (fscanf(f, "%lld %lld", &ns, &wait_ns) != 2) ns = wait_ns = -1;
                fclose(f);
            }
            out[n++] = (thread_cpu_t){ pids[i], atoi(e->d_name), ut + st, ns, wait_ns };
        }
        closedir(d);
    }
    return n;
}

/* The thread's name (/proc/PID/task/TID/comm), reduced to characters that need no JSON escaping. */
static void thread_name(int pid, int tid, char *name, size_t cap) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
    name[0] = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(name, (int)cap, f)) name[0] = 0;
        fclose(f);
    }
    for (char *c = name; *c; c++) {
        if (*c == '\n') { *c = 0; break; }
        if (!isalnum((unsigned char)*c) && !strchr("._-:# ", *c)) *c = '_';
    }
}

typedef struct {
    double cpu0, self0, busy0, steal0; long long ctx0; int64_t t0;
    thread_cpu_t th0[MAX_THREADS]; int nth0;
} window_t;

static window_t window_start(void) {
    window_t w = { cpu_seconds(pids, npids), self_cpu(), 0, 0, npids ? ctx_switches(pids, npids) : -1, now_ns() };
    machine_cpu(&w.busy0, &w.steal0);
    w.nth0 = thread_cpus(w.th0, MAX_THREADS);
    return w;
}

/* "proxy_threads": the CPU each thread of the proxy used in the window (a thread born inside it counts from 0; one
 * that ended inside it is missing). */
static void print_thread_split(const window_t *w, const thread_cpu_t *now, int n) {
    long hz = sysconf(_SC_CLK_TCK);
    printf(", \"proxy_threads\": [");
    for (int i = 0; i < n; i++) {
        unsigned long long before = 0;
        long long before_ns = 0;
        for (int j = 0; j < w->nth0; j++)
            if (w->th0[j].tid == now[i].tid) { before = w->th0[j].ticks; before_ns = w->th0[j].ns; break; }
        char name[64];
        thread_name(now[i].pid, now[i].tid, name, sizeof name);
        double cpu = now[i].ns >= 0 && before_ns >= 0 ? (now[i].ns - before_ns) / 1e9
                                                       : (double)(now[i].ticks - before) / hz;
        printf("%s{\"pid\": %d, \"tid\": %d, \"comm\": \"%s\", \"cpu_s\": %.6f}", i ? ", " : "", now[i].pid,
               now[i].tid, name, cpu);
    }
    printf("]");
}

/* ", "proxy_wait_s": the time the proxy's threads spent runnable but waiting for a CPU in the window (summed over
 * the threads alive at both edges; -1 when schedstat is unreadable). A proxy that another task kept off its CPU
 * shows it here, where its own CPU figures do not. */
static void print_run_wait(const window_t *w, const thread_cpu_t *now, int n) {
    long long wait = 0;
    for (int i = 0; i < n && wait >= 0; i++) {
        for (int j = 0; j < w->nth0; j++) {
            if (w->th0[j].tid != now[i].tid) continue;
            if (now[i].wait_ns < 0 || w->th0[j].wait_ns < 0) wait = -1;
            else wait += now[i].wait_ns - w->th0[j].wait_ns;
            break;
        }
    }
    printf(", \"proxy_wait_s\": %.6f", wait >= 0 ? wait / 1e9 : -1.0);
}

static void window_print(window_t *w) {
    double wall = (now_ns() - w->t0) / 1e9;
    double cpu = npids ? cpu_seconds(pids, npids) - w->cpu0 : -1;
    double self = self_cpu() - w->self0;
    long long ctx = npids && w->ctx0 >= 0 ? ctx_switches(pids, npids) - w->ctx0 : -1;
    double busy, steal;
    machine_cpu(&busy, &steal);
    printf("\"wall_s\": %.3f, \"proxy_cpu_s\": %.6f, \"proxy_ctxsw\": %lld, \"loadgen_cpu_s\": %.6f"
           ", \"machine_busy_s\": %.3f, \"machine_steal_s\": %.3f", wall, npids ? cpu : -1.0, ctx, self,
           busy - w->busy0, steal - w->steal0);
    if (npids) {
        static thread_cpu_t now[MAX_THREADS];  /* one reading of the threads at the window's end, for both */
        int n = thread_cpus(now, MAX_THREADS);
        print_run_wait(w, now, n);
        print_thread_split(w, now, n);
    }
}

/* the fields every workload reports, and the end of its JSON object */
static void print_common_and_end(int open_failed) {
    printf("\"open_failed\": %d, \"events\": %" PRIu64 ", \"heartbeats\": %" PRIu64 ", \"gaps\": %" PRIu64
           ", \"sent\": %" PRIu64 ", \"send_failures\": %" PRIu64 ", \"conn_errors\": %" PRIu64
           ", \"bad_status\": %" PRIu64 ", \"resets\": %" PRIu64 ", \"proxy_alive\": %s",
           open_failed, total_events, total_heartbeats, total_gaps, sent_events, send_failures, conn_errors,
           bad_status, resets, procs_alive() ? "true" : "false");
    printf("}\n");
}

/* The order the paced schedules (latency, paced throughput) walk the streams in: a fixed shuffle, the same on
 * every run and path. Walking them in the order they were opened made each proxy's way of dealing connections to
 * its threads part of the measurement: ssekeeper's acceptor deals them round-robin, so with two loops consecutive
 * events alternated between the loops and a loop seldom found two events in one wake-up, while nginx's workers,
 * taking connections in runs as they win accept(), got their events in runs. Paced throughput at two loops or
 * workers (`perf record -e syscalls:sys_exit_epoll_wait`, 30,000 events): ssekeeper 26,862 wake-ups, nginx 18,900
 * in that order; 22,666 and 23,438 in this one. At one loop or worker the order hardly matters: 18,989 and 19,466
 * in open order, 18,830 and 18,666 shuffled. Real streams' events do not arrive in the order the streams were
 * accepted. */
static int *schedule_order(int n) {
    /* one workload per process calls this once; the array lives until exit */
    int *order = malloc(sizeof *order * (size_t)(n > 0 ? n : 1));
    if (!order) die("out of memory");
    for (int i = 0; i < n; i++) order[i] = i;
    uint64_t x = 0x9E3779B97F4A7C15ull;   /* xorshift64, fixed seed */
    for (int i = n - 1; i > 0; i--) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int k = (int)(x % (uint64_t)(i + 1));
        int t = order[i]; order[i] = order[k]; order[k] = t;
    }
    return order;
}

static void w_latency(void) {
    int failed = open_streams(0, nstreams, 0, 60);
    note("latency: %d streams open (%d failed)", nstreams - failed, failed);
    run_for(300 * MS);
    int64_t period = NS / nstreams;   /* one event somewhere every 1/N s: each stream once a second */
    int *order = schedule_order(nstreams);
    int64_t total = (int64_t)(duration_s * nstreams);
    recording = 1;
    window_t w = window_start();
    int64_t t0 = now_ns();
    for (int64_t j = 0; j < total;) {
        int64_t due = t0 + j * period;
        int64_t now = now_ns();
        if (now < due) { poll_once(due); continue; }
        if (now - due > max_sched_lag) max_sched_lag = now - due;
        conn_t *b = bak[order[j % nstreams]];
        if (b && b->fd >= 0) {
            if (b->pend_len) backend_flush(b);
            if (!b->pend_len) backend_send_event(b, 0); else send_failures++;
        }
        j++;
    }
    /* let the last events arrive */
    int64_t drain = now_ns() + 3 * NS;
    while (now_ns() < drain && total_events < sent_events) poll_once(now_ns() + 5 * MS);
    recording = 0;
    printf("{\"workload\": \"latency\", \"streams\": %d, ", nstreams);
    window_print(&w);
    printf(", \"max_sched_lag_ms\": %.3f, \"clock_steps\": %" PRIu64 ", ", max_sched_lag / 1e6, clock_steps);
    print_samples("latency_kernel", &lat_k);
    printf(", ");
    print_samples("latency_app", &lat_app);
    printf(", ");
    print_common_and_end(failed);
    close_all(nstreams);
}

static void w_throughput(void) {
    int failed = open_streams(0, nstreams, 0, 60);
    note("throughput: %d streams open (%d failed)", nstreams - failed, failed);
    run_for(200 * MS);
    printf("{\"workload\": \"throughput\", \"streams\": %d, \"event_size\": %d, ", nstreams, event_size);
    /* phase 1, paced: the same offered load on every path, one event per send(), spread evenly over the
     * streams; CPU per event at a load every path can carry */
    if (paced_rate > 0 && paced_duration_s > 0) {
        int64_t period = NS / paced_rate, total = (int64_t)(paced_duration_s * paced_rate);
        int *order = schedule_order(nstreams);
        uint64_t ev0 = total_events, lag_sum = 0;
        window_t w = window_start();
        int64_t t0 = now_ns();
        for (int64_t j = 0; j < total;) {
            int64_t due = t0 + j * period, now = now_ns();
            if (now < due) { poll_once(due); continue; }
            lag_sum += now - due;
            conn_t *b = bak[order[j % nstreams]];
            if (b && b->fd >= 0) {
                if (b->pend_len) backend_flush(b);
                if (!b->pend_len) backend_send_event(b, event_size); else send_failures++;
            }
            j++;
        }
        printf("\"paced\": {\"rate\": %d, ", paced_rate);
        window_print(&w);
        int64_t drain = now_ns() + 3 * NS;
        while (now_ns() < drain && total_events < sent_events) poll_once(now_ns() + 5 * MS);
        printf(", \"events\": %" PRIu64 ", \"mean_send_lag_ms\": %.4f}, ", total_events - ev0,
               total ? lag_sum / (double)total / 1e6 : 0.0);
        run_for(300 * MS);
    }
    /* phase 2, saturated: every backend socket gets events, `batch` per send(), as long as it takes them */
    for (int i = 0; i < nstreams; i++)
        if (bak[i] && bak[i]->fd >= 0) {
            bak[i]->writable = 1;
            ep_mod(bak[i], EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET);  /* edge-triggered: tells when a full socket has room */
        }
    int64_t warm_end = now_ns() + NS, end = warm_end + (int64_t)(duration_s * NS);
    window_t w = { 0 };
    uint64_t ev0 = 0;
    int started = 0;
    for (;;) {
        int64_t now = now_ns();
        if (!started && now >= warm_end) { w = window_start(); ev0 = total_events; started = 1; recording = 1; }
        if (now >= end) break;
        /* a few events per stream per round, so every stream gets its turn and the clients are read often */
        int any = 0;
        for (int i = 0; i < nstreams; i++) {
            conn_t *b = bak[i];
            if (!b || b->fd < 0 || !b->writable) continue;
            for (int k = 0; k < 4; k++) {
                int r = b->pend_len ? backend_flush(b) : backend_send_events(b, event_size, batch);
                if (r <= 0) { b->writable = 0; break; }
            }
            if (b->writable) any = 1;
        }
        poll_once(any ? 0 : now_ns() + 10 * MS);
    }
    uint64_t ev = total_events - ev0;
    window_print(&w);
    double wall = (now_ns() - w.t0) / 1e9;
    recording = 0;
    /* drain: every event sent must arrive */
    int64_t drain = now_ns() + 10 * NS;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < nstreams; i++)
            if (bak[i] && bak[i]->fd >= 0 && bak[i]->pend_len && backend_flush(bak[i]) == 0) pending = 1;
        if ((!pending && total_events >= sent_events) || now_ns() > drain) break;
        poll_once(now_ns() + MS);
    }
    printf(", \"batch\": %d, \"window_events\": %" PRIu64 ", \"events_per_s\": %.1f, ", batch, ev, ev / wall);
    print_common_and_end(failed);
    close_all(nstreams);
}

static void w_memory(void) {
    /* warm-up: a few streams opened and closed, so one-off allocations are not counted per stream */
    int warm = nstreams < 50 ? nstreams : 50;
    open_streams(0, warm, 1, 30);
    close_all(warm);
    run_for(500 * MS);
    long rss0 = rss_kib(rss_pids, nrss);
    window_t w = window_start();
    total_events = 0;
    int failed = open_streams(0, nstreams, 1, 120);
    note("memory: %d streams open (%d failed)", nstreams - failed, failed);
    run_for(1000 * MS);
    long rss1 = rss_kib(rss_pids, nrss);
    printf("{\"workload\": \"memory\", \"streams\": %d, ", nstreams);
    window_print(&w);
    printf(", \"rss_before_kib\": %ld, \"rss_after_kib\": %ld, \"rss_per_stream_kib\": %.3f, ", rss0, rss1,
           (double)(rss1 - rss0) / (nstreams - failed > 0 ? nstreams - failed : 1));
    print_common_and_end(failed);
    close_all(nstreams);
}

static void w_heartbeats(void) {
    int failed = open_streams(0, nstreams, 0, 120);
    note("heartbeats: %d streams open (%d failed)", nstreams - failed, failed);
    recording = 1;
    window_t w = window_start();
    run_for((int64_t)(duration_s * NS));
    recording = 0;
    int silent = 0;   /* streams with no heartbeat at all */
    for (int i = 0; i < nstreams; i++) if (cli[i] && cli[i]->state == C_BODY && !cli[i]->heartbeats) silent++;
    double expected = (nstreams - failed) * (duration_s * 1000 / interval_ms);
    printf("{\"workload\": \"heartbeats\", \"streams\": %d, \"interval_ms\": %.3f, ", nstreams, interval_ms);
    window_print(&w);
    printf(", \"window_heartbeats\": %" PRIu64 ", \"expected_heartbeats\": %.0f, \"streams_without_heartbeat\": %d"
           ", \"later_than_one_interval\": %" PRId64 ", ",
           rec_heartbeats, expected, silent, late_beyond_interval);
    print_samples("lateness", &hb_late);
    printf(", ");
    print_common_and_end(failed);
    close_all(nstreams);
}

static volatile sig_atomic_t hb_stop;
static void hb_on_signal(int sig) { (void)sig; hb_stop = 1; }

/* hbsource: sends heartbeats on the streams it serves until SIGTERM or SIGINT (see the head of this file). */
static void w_hbsource(void) {
    static const char beat[] = "c\r\n: heartbeat\n\r\n";  /* `: heartbeat` LF, as one chunk */
    const int64_t leeway = 4 * MS, interval = (int64_t)(interval_ms * MS);
    struct sigaction sa = { .sa_handler = hb_on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!hb_stop) {
        /* wake for the earliest due stream, on time; the ones due within the leeway after it go with it */
        poll_once(hb_count ? hb_due[hb_first] : now_ns() + NS);
        int64_t now = now_ns();
        while (hb_count && hb_due[hb_first] <= now + leeway) {
            conn_t *b = hb_ring[hb_first];
            hb_first = (hb_first + 1) % hb_cap;
            hb_count--;
            if (b->fd < 0) continue;  /* the client left: the stream is dropped (its conn_t is not reused) */
            ssize_t w = send(b->fd, beat, sizeof beat - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w == (ssize_t)(sizeof beat - 1)) hb_sent++;
            else send_failures++;
            hb_push(b, now + interval);
        }
    }
    printf("{\"workload\": \"hbsource\", \"heartbeats_sent\": %" PRIu64 ", \"send_failures\": %" PRIu64 "}\n",
           hb_sent, send_failures);
}

static void teardown_run(int from, int to, int rst, samples_t *out, int *unseen) {
    for (int i = from; i < to; i++) {
        conn_t *c = cli[i], *b = bak[i];
        if (!c || !b || c->fd < 0 || b->fd < 0) { (*unseen)++; continue; }
        run_for(2 * MS);
        int64_t t = now_ns();
        conn_close(c, rst);
        int64_t deadline = t + (int64_t)(2 * NS);
        while (b->fd >= 0 && now_ns() < deadline) poll_once(deadline);
        if (b->fd >= 0) { (*unseen)++; continue; }
        push(out, b->t_end - t);
    }
}

static void w_teardown(void) {
    int failed = open_streams(0, 2 * nstreams, 1, 60);
    note("teardown: %d streams open (%d failed)", 2 * nstreams - failed, failed);
    run_for(200 * MS);
    samples_t fin = { 0 }, rst = { 0 };
    int unseen_fin = 0, unseen_rst = 0;
    window_t w = window_start();
    teardown_run(0, nstreams, 0, &fin, &unseen_fin);
    teardown_run(nstreams, 2 * nstreams, 1, &rst, &unseen_rst);
    printf("{\"workload\": \"teardown\", \"streams\": %d, ", nstreams);
    window_print(&w);
    printf(", \"unseen_fin\": %d, \"unseen_rst\": %d, ", unseen_fin, unseen_rst);
    print_samples("fin", &fin);
    printf(", ");
    print_samples("rst", &rst);
    printf(", ");
    print_common_and_end(failed);
    nstreams *= 2;
    close_all(nstreams);
}


static void connrate_done(conn_t *c) {
    push(&ttfe, c->first_event_kts - c->t_start);
    cr_done++;
    c->state = C_ENDED;
    conn_close(c, 0);
    conn_free_later(c);
}

static void w_connrate(void) {
    printf("{\"workload\": \"connrate\", \"step_duration_s\": %.3f, \"p99_limit_ms\": %.3f, \"steps\": [",
           step_duration_s, connrate_p99_ms);
    int best = 0;
    cr_caplive = 1 << 16;
    cr_live = calloc(cr_caplive, sizeof *cr_live);
    int printed = 0;
    for (int s = 0; s < nsteps; s++) {
        int attempt = 0;
    retry:;
        int rate = steps[s];
        int64_t period = NS / rate;
        int64_t total = (int64_t)(step_duration_s * rate);
        ttfe.n = 0;
        cr_done = 0;
        uint64_t err0 = conn_errors, bad0 = bad_status, addr0 = addr_errors, over_cap = 0;
        ttfe_timeouts = 0;
        int64_t lag_sum = 0, lag_max = 0;
        cr_nlive = 0;
        window_t w = window_start();
        int64_t t0 = now_ns();
        int64_t hard_end = t0 + (int64_t)((step_duration_s + ttfe_timeout_s + 1) * NS);
        int64_t j = 0;
        while (now_ns() < hard_end) {
            int64_t now = now_ns();
            while (j < total && t0 + j * period <= now) {
                int64_t lag = now - (t0 + j * period);
                lag_sum += lag;
                if (lag > lag_max) lag_max = lag;
                if (cr_nlive >= CONNRATE_MAX_IN_FLIGHT) { conn_errors++; over_cap++; j++; continue; }
                conn_t *c = client_open(0);
                if (c) {
                    c->id = -1;
                    if (cr_nlive == cr_caplive) {
                        cr_caplive *= 2;
                        cr_live = realloc(cr_live, cr_caplive * sizeof *cr_live);
                    }
                    c->live_idx = (int32_t)++cr_nlive;
                    cr_live[cr_nlive - 1] = c;
                }
                j++;
            }
            if (j >= total && cr_done + (conn_errors - err0) >= (uint64_t)total) break;
            /* time-outs: streams that got no first event in time */
            if ((j & 63) == 0 || j >= total) {
                for (size_t i = cr_nlive; i-- > 0;) {
                    conn_t *c = cr_live[i];
                    if (now - c->t_start > (int64_t)(ttfe_timeout_s * NS)) { ttfe_timeouts++; client_fail(c); }
                }
            }
            int64_t next = j < total ? t0 + j * period : now + 2 * MS;
            if (next > now + 2 * MS) next = now + 2 * MS;
            poll_once(next);
        }
        double wall = (now_ns() - t0) / 1e9;
        uint64_t errors = (conn_errors - err0) + (bad_status - bad0);
        while (cr_nlive) { errors++; client_fail(cr_live[cr_nlive - 1]); }
        reap();
        cr_nlive = 0;
        qsort(ttfe.v, ttfe.n, sizeof(int64_t), cmp64);
        double p99 = pct(&ttfe, 99);
        double mean_lag_ms = total ? lag_sum / (double)total / 1e6 : 0;
        /* the load tool itself fell behind its connect schedule by more than one period (and 1 ms) on average */
        int tool_limited = mean_lag_ms > 1000.0 / rate && mean_lag_ms > 1.0;
        int ok = errors == 0 && cr_done >= (uint64_t)(0.99 * total) && p99 >= 0 && p99 <= connrate_p99_ms;
        printf("%s{\"rate\": %d, \"offered\": %" PRId64 ", \"completed\": %" PRIu64 ", \"errors\": %" PRIu64
               ", \"timeouts\": %" PRIu64 ", \"addr_errors\": %" PRIu64 ", \"ttfe_p50\": %.4f, \"ttfe_p99\": %.4f"
               ", \"ttfe_max\": %.4f, \"mean_start_lag_ms\": %.4f, \"max_start_lag_ms\": %.4f, \"tool_limited\": %s"
               ", \"sustained\": %s, \"attempt\": %d, \"not_started_over_cap\": %" PRIu64 ", ",
               printed++ ? ", " : "", rate, total, cr_done, errors, ttfe_timeouts, addr_errors - addr0, pct(&ttfe, 50), p99,
               pct(&ttfe, 100), mean_lag_ms, lag_max / 1e6, tool_limited ? "true" : "false", ok ? "true" : "false", attempt + 1, over_cap);
        window_print(&w);
        printf("}");
        (void)wall;
        note("connrate %d/s: done %" PRIu64 "/%" PRId64 " errors %" PRIu64 " p99 %.3f ms lag %.3f ms", rate, cr_done,
             total, errors, p99, mean_lag_ms);
        if (!ok) {
            /* one retry: a 2-second step on a shared 2-core machine can fail by a hiccup of something else */
            if (!attempt++) { run_for(1000 * MS); goto retry; }
            break;
        }
        best = rate;
        run_for(700 * MS);
    }
    printf("], \"best_rate\": %d, \"accept_emfile\": %" PRIu64 ", ", best, accept_emfile);
    print_common_and_end(0);
}

/* ---------------------------------------------------------------- main */
static void parse_list(const char *s, int *out, int *n, int max) {
    *n = 0;
    while (*s && *n < max) {
        out[(*n)++] = atoi(s);
        const char *c = strchr(s, ',');
        if (!c) break;
        s = c + 1;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: sse-loadgen WORKLOAD --target PORT --backend PORT [options]");
    const char *w = argv[1];
    if (!strcmp(w, "latency")) wl = W_LATENCY;
    else if (!strcmp(w, "throughput")) wl = W_THROUGHPUT;
    else if (!strcmp(w, "memory")) wl = W_MEMORY;
    else if (!strcmp(w, "heartbeats")) wl = W_HEARTBEATS;
    else if (!strcmp(w, "teardown")) wl = W_TEARDOWN;
    else if (!strcmp(w, "connrate")) wl = W_CONNRATE;
    else if (!strcmp(w, "hbsource")) wl = W_HBSOURCE;
    else die("unknown workload %s", w);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && (i++, 1))
        if (OPT("--target")) target_port = atoi(v);
        else if (OPT("--backend")) backend_port = atoi(v);
        else if (OPT("--streams")) nstreams = atoi(v);
        else if (OPT("--duration")) duration_s = atof(v);
        else if (OPT("--event-size")) event_size = atoi(v);
        else if (OPT("--interval-ms")) interval_ms = atof(v);
        else if (OPT("--concurrency")) concurrency = atoi(v);
        else if (OPT("--pids")) parse_list(v, pids, &npids, MAX_PIDS);
        else if (OPT("--rss-pids")) parse_list(v, rss_pids, &nrss, MAX_PIDS);
        else if (OPT("--steps")) parse_list(v, steps, &nsteps, 64);
        else if (OPT("--step-duration")) step_duration_s = atof(v);
        else if (OPT("--connrate-p99-ms")) connrate_p99_ms = atof(v);
        else if (OPT("--paced-rate")) paced_rate = atoi(v);
        else if (OPT("--batch")) batch = atoi(v) < 1 ? 1 : atoi(v) > MAX_BATCH ? MAX_BATCH : atoi(v);
        else if (OPT("--paced-duration")) paced_duration_s = atof(v);
        else if (!strcmp(a, "--close-delimited")) close_delimited = 1;
        else if (!strcmp(a, "--remote-backend")) remote_backend = 1;
        else if (!strcmp(a, "-v")) verbose = 1;
        else die("bad argument %s", a);
#undef OPT
    }
    if (!backend_port || (!target_port && wl != W_HBSOURCE)) die("--target and --backend are required");
    if (!nrss) { memcpy(rss_pids, pids, sizeof pids); nrss = npids; }
    if (event_size > 150) event_size = 150;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int need = wl == W_TEARDOWN ? 4 * nstreams : 2 * nstreams;
    if (wl != W_CONNRATE && wl != W_HBSOURCE && (rlim_t)need + 64 > rl.rlim_cur)
        die("%d streams need %d descriptors here, RLIMIT_NOFILE is %llu", nstreams, need + 64,
            (unsigned long long)rl.rlim_cur);

    measure_clock_offset();
    hold_timestamping();

    ep = epoll_create1(0);
    listener.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    listener.kind = K_LISTEN;
    int one = 1;
    setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(backend_port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener.fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind 127.0.0.1:%d: %s", backend_port, strerror(errno));
    if (listen(listener.fd, 4096) < 0) die("listen: %s", strerror(errno));
    ep_add(&listener, EPOLLIN);

    int slots = wl == W_TEARDOWN ? 2 * nstreams : nstreams;
    cli = calloc(slots + 1, sizeof *cli);
    bak = calloc(slots + 1, sizeof *bak);
    switch (wl) {
    case W_LATENCY: w_latency(); break;
    case W_THROUGHPUT: w_throughput(); break;
    case W_MEMORY: w_memory(); break;
    case W_HEARTBEATS: w_heartbeats(); break;
    case W_TEARDOWN: w_teardown(); break;
    case W_CONNRATE: w_connrate(); break;
    case W_HBSOURCE: w_hbsource(); break;
    }
    fflush(stdout);
    return 0;
}
