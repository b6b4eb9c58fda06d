/* netq: packet delay, jitter and loss for one network namespace, where the
 * kernel has no netem (docs/reliability.md, "Slow and lossy links").
 *
 * iptables rules send a link's packets to an NFQUEUE; this program holds
 * each one for the delay plus a uniform jitter, then accepts it, or drops
 * it with the given probability. The verdict is given later, from here,
 * so a sender never sees an error for a lost packet (an iptables DROP on
 * OUTPUT answers EPERM at once, which a real lost packet never does), and
 * with jitter packets overtake each other as they do on a real path.
 * Runs until SIGTERM or SIGINT (or --seconds), then accepts every packet
 * it still holds and prints one line of counts.
 *
 * usage: netq --queue N --delay-ms D [--jitter-ms J] [--loss P] [--seed S]
 *             [--seconds T]
 * The rules should use --queue-bypass: packets pass untouched while no
 * netq listens. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

typedef struct held {
    uint64_t due_us;
    uint32_t id;
} held;

static struct {
    held *heap; /* min-heap on due_us */
    size_t n, cap;
    uint64_t delay_us, jitter_us;
    double loss;
    uint64_t rng;
    unsigned long seen, dropped, accepted, overflow;
    struct nfq_q_handle *qh;
} q;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* splitmix64: seeded, so a run can be repeated. */
static uint64_t next_random(void)
{
    uint64_t z = (q.rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double uniform(void)
{
    return (double)(next_random() >> 11) / 9007199254740992.0;
}

static void heap_push(held h)
{
    if (q.n == q.cap) {
        size_t cap = q.cap ? 2 * q.cap : 1024;
        held *p = realloc(q.heap, cap * sizeof(*p));
        if (!p) {
            /* Cannot hold it: let it through now rather than lose it. */
            nfq_set_verdict(q.qh, h.id, NF_ACCEPT, 0, NULL);
            q.overflow++;
            return;
        }
        q.heap = p;
        q.cap = cap;
    }
    size_t i = q.n++;
    while (i > 0 && q.heap[(i - 1) / 2].due_us > h.due_us) {
        q.heap[i] = q.heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q.heap[i] = h;
}

static held heap_pop(void)
{
    held top = q.heap[0];
    held last = q.heap[--q.n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q.n)
            break;
        if (c + 1 < q.n && q.heap[c + 1].due_us < q.heap[c].due_us)
            c++;
        if (q.heap[c].due_us >= last.due_us)
            break;
        q.heap[i] = q.heap[c];
        i = c;
    }
    if (q.n > 0)
        q.heap[i] = last;
    return top;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
                     struct nfq_data *nfa, void *data)
{
    (void)msg;
    (void)data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (!ph)
        return 0;
    uint32_t id = ntohl(ph->packet_id);
    q.seen++;
    if (q.loss > 0 && uniform() < q.loss) {
        q.dropped++;
        return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    }
    uint64_t extra =
        q.jitter_us ? (uint64_t)(uniform() * (double)(2 * q.jitter_us)) : 0;
    uint64_t delay = q.delay_us + extra;
    delay = delay > q.jitter_us ? delay - q.jitter_us : 0;
    heap_push((held){now_us() + delay, id});
    return 0;
}

static void release_due(uint64_t now)
{
    while (q.n > 0 && q.heap[0].due_us <= now) {
        held h = heap_pop();
        nfq_set_verdict(q.qh, h.id, NF_ACCEPT, 0, NULL);
        q.accepted++;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: netq --queue N --delay-ms D [--jitter-ms J] "
                    "[--loss P] [--seed S] [--seconds T]\n");
    return 2;
}

int main(int argc, char **argv)
{
    long queue = -1;
    double seconds = 0;
    q.rng = (uint64_t)now_us();
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--queue"))
            queue = strtol(v, NULL, 10);
        else if (!strcmp(k, "--delay-ms"))
            q.delay_us = (uint64_t)(strtod(v, NULL) * 1000);
        else if (!strcmp(k, "--jitter-ms"))
            q.jitter_us = (uint64_t)(strtod(v, NULL) * 1000);
        else if (!strcmp(k, "--loss"))
            q.loss = strtod(v, NULL);
        else if (!strcmp(k, "--seed"))
            q.rng = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--seconds"))
            seconds = strtod(v, NULL);
        else
            return usage();
    }
    if (argc % 2 == 0 || queue < 0 || queue > 65535 || q.loss < 0 || q.loss > 1)
        return usage();
    struct nfq_handle *h = nfq_open();
    if (!h) {
        fprintf(stderr, "netq: nfq_open: %s (needs root and nfnetlink_queue)\n",
                strerror(errno));
        return 1;
    }
    q.qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
    if (!q.qh) {
        fprintf(stderr, "netq: cannot bind queue %ld: %s\n", queue,
                strerror(errno));
        nfq_close(h);
        return 1;
    }
    /* The verdict needs only the packet's ID: copy no payload. */
    if (nfq_set_mode(q.qh, NFQNL_COPY_META, 0) < 0 ||
        nfq_set_queue_maxlen(q.qh, 65536) < 0) {
        fprintf(stderr, "netq: cannot configure queue %ld\n", queue);
        nfq_destroy_queue(q.qh);
        nfq_close(h);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int fd = nfq_fd(h);
    uint64_t end = seconds > 0 ? now_us() + (uint64_t)(seconds * 1e6) : 0;
    char buf[8192] __attribute__((aligned));
    /* Ready: the caller may add the rules now. */
    printf("netq: queue %ld listening\n", queue);
    fflush(stdout);
    while (!stop && (!end || now_us() < end)) {
        uint64_t now = now_us();
        release_due(now);
        int timeout = 100;
        if (q.n > 0) {
            uint64_t wait = q.heap[0].due_us > now ? q.heap[0].due_us - now : 0;
            timeout = (int)((wait + 999) / 1000);
        }
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        while (rc > 0) {
            ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (len < 0) {
                if (errno == ENOBUFS) {
                    q.overflow++; /* the kernel dropped some: loss too */
                    continue;
                }
                break;
            }
            nfq_handle_packet(h, buf, (int)len);
        }
    }
    while (q.n > 0) {
        held x = heap_pop();
        nfq_set_verdict(q.qh, x.id, NF_ACCEPT, 0, NULL);
        q.accepted++;
    }
    printf("netq: %lu packets, %lu dropped, %lu delayed and accepted, "
           "%lu overflows\n",
           q.seen, q.dropped, q.accepted, q.overflow);
    nfq_destroy_queue(q.qh);
    nfq_close(h);
    free(q.heap);
    return 0;
}
