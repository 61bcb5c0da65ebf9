/*
 * mock-broker: a Kafka-protocol test broker on loopback, built on librdkafka's
 * mock cluster (rdkafka_mock.h, Debian librdkafka-dev 2.0.2).
 *
 *   mock-broker [--brokers N] [--topic name:partitions]... [--max-seconds S] [--keep-on-eof]
 *
 * When the cluster is ready it prints one JSON line on stdout:
 *   {"bootstrap":"127.0.0.1:PORT[,127.0.0.1:PORT...]","pid":N,"brokers":N,"librdkafka":"2.0.2"}
 * and then reads commands from stdin, one per line, answering one JSON line each:
 *   create-topic <name> <partitions> [replication]  -> {"ok":true} | {"ok":false,"error":"..."}
 *   broker-down <id> | broker-up <id>               -> take a broker's listener away / back
 *                                                      (the port is kept; ids are 1..N)
 *   broker-rtt <id> <ms>                            -> delay every response of a broker
 *   request-errors <api> <err>[,<err>...]           -> the next requests of that API (any
 *                                                      broker) fail with these errors, in order
 *   delay-next <id> <api> <ms> [count]              -> delay the next <count> (1) responses to
 *                                                      <api> requests on broker <id>; the request
 *                                                      itself is applied at once
 *     <api>: a Kafka ApiKey number or name (Produce, Fetch, ListOffsets, Metadata, OffsetCommit,
 *     OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, ApiVersions,
 *     InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit);
 *     <err>: a Kafka error code number or librdkafka name (NOT_LEADER_FOR_PARTITION,
 *     _TRANSPORT = drop the connection, ...)
 *   ping                                            -> {"ok":true}
 *   quit                                            -> {"ok":true}, then exits
 * It exits (status 0) when stdin closes (unless --keep-on-eof), on SIGTERM/SIGINT/SIGHUP,
 * after --max-seconds (default 3600, a safety net) or on `quit`; on Linux also when its
 * parent dies. Listener ports are ephemeral: librdkafka 2.0.2 has no API to choose them.
 * Logs go to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) {
        stop_signal = sig;
}

static void on_alarm(int sig) {
        (void)sig;
        /* Shutdown took too long: leave anyway. */
        _exit(3);
}

static void usage(const char *argv0) {
        fprintf(stderr,
                "usage: %s [--brokers N] [--topic name:partitions]... "
                "[--max-seconds S] [--keep-on-eof]\n",
                argv0);
}

/* Writes s as a JSON string (with quotes). */
static void json_str(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void reply_ok(void) {
        fputs("{\"ok\":true}\n", stdout);
        fflush(stdout);
}

static void reply_err(const char *msg) {
        fputs("{\"ok\":false,\"error\":", stdout);
        json_str(stdout, msg);
        fputs("}\n", stdout);
        fflush(stdout);
}

/* A Kafka topic name: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
static int valid_topic(const char *t) {
        size_t n = strlen(t);
        if (n == 0 || n > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = t[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return 0;
        }
        return 1;
}

static int parse_int(const char *s, long min, long max, long *out) {
        char *end;
        long v;
        if (!s || !*s)
                return 0;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return 0;
        *out = v;
        return 1;
}

static const struct {
        const char *name;
        int key;
} api_names[] = {
    {"Produce", 0},          {"Fetch", 1},           {"ListOffsets", 2},
    {"Metadata", 3},         {"OffsetCommit", 8},    {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},      {"Heartbeat", 12},
    {"LeaveGroup", 13},      {"SyncGroup", 14},      {"ApiVersions", 18},
    {"ApiVersion", 18},      {"InitProducerId", 22}, {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25}, {"EndTxn", 26},         {"TxnOffsetCommit", 28},
};

static int parse_api(const char *s, int *out) {
        long v;
        if (parse_int(s, 0, 1000, &v)) {
                *out = (int)v;
                return 1;
        }
        for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++)
                if (!strcasecmp(s, api_names[i].name)) {
                        *out = api_names[i].key;
                        return 1;
                }
        return 0;
}

static int parse_err(const char *s, rd_kafka_resp_err_t *out) {
        const struct rd_kafka_err_desc *descs;
        size_t cnt;
        long v;
        if (parse_int(s, -1000, 1000, &v)) {
                *out = (rd_kafka_resp_err_t)v;
                return 1;
        }
        rd_kafka_get_err_descs(&descs, &cnt);
        for (size_t i = 0; i < cnt; i++)
                if (descs[i].name && !strcasecmp(s, descs[i].name)) {
                        *out = descs[i].code;
                        return 1;
                }
        return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, int brokers,
                        const char *name, long partitions, long replication,
                        char *err, size_t errsz) {
        rd_kafka_resp_err_t e;
        if (!valid_topic(name)) {
                snprintf(err, errsz, "invalid topic name: %s", name);
                return 0;
        }
        if (partitions < 1) {
                snprintf(err, errsz, "partitions must be >= 1");
                return 0;
        }
        if (replication < 1 || replication > brokers) {
                snprintf(err, errsz,
                         "replication must be between 1 and %d (brokers)",
                         brokers);
                return 0;
        }
        e = rd_kafka_mock_topic_create(mc, name, (int)partitions,
                                       (int)replication);
        if (e) {
                /* e.g. TOPIC_ALREADY_EXISTS */
                snprintf(err, errsz, "%s: %s", rd_kafka_err2name(e),
                         rd_kafka_err2str(e));
                return 0;
        }
        return 1;
}

/* Handles one command line; returns 1 to quit. */
static int handle_command(rd_kafka_mock_cluster_t *mc, int brokers,
                          char *line) {
        char *argv[8];
        int argc = 0;
        char *save = NULL, *tok;
        char err[512];

        for (tok = strtok_r(line, " \t\r\n", &save); tok && argc < 8;
             tok = strtok_r(NULL, " \t\r\n", &save))
                argv[argc++] = tok;
        if (argc == 0)
                return 0; /* blank line: no answer */

        if (!strcmp(argv[0], "ping")) {
                reply_ok();
        } else if (!strcmp(argv[0], "quit")) {
                reply_ok();
                return 1;
        } else if (!strcmp(argv[0], "create-topic")) {
                long partitions, replication = 1;
                if (argc < 3 || argc > 4 ||
                    !parse_int(argv[2], 1, 100000, &partitions) ||
                    (argc == 4 && !parse_int(argv[3], 1, 1000, &replication))) {
                        reply_err("usage: create-topic <name> <partitions> "
                                  "[replication]");
                } else if (create_topic(mc, brokers, argv[1], partitions,
                                        replication, err, sizeof(err))) {
                        reply_ok();
                } else {
                        reply_err(err);
                }
        } else if (!strcmp(argv[0], "broker-down") ||
                   !strcmp(argv[0], "broker-up")) {
                long id;
                rd_kafka_resp_err_t e;
                if (argc != 2 || !parse_int(argv[1], 1, brokers, &id)) {
                        snprintf(err, sizeof(err),
                                 "usage: %s <id>, id in 1..%d", argv[0],
                                 brokers);
                        reply_err(err);
                        return 0;
                }
                e = !strcmp(argv[0], "broker-down")
                        ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                        : rd_kafka_mock_broker_set_up(mc, (int32_t)id);
                if (e)
                        reply_err(rd_kafka_err2str(e));
                else
                        reply_ok();
        } else if (!strcmp(argv[0], "broker-rtt")) {
                long id, ms;
                rd_kafka_resp_err_t e;
                if (argc != 3 || !parse_int(argv[1], 1, brokers, &id) ||
                    !parse_int(argv[2], 0, 3600 * 1000, &ms)) {
                        reply_err("usage: broker-rtt <id> <ms>");
                        return 0;
                }
                e = rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms);
                if (e)
                        reply_err(rd_kafka_err2str(e));
                else
                        reply_ok();
        } else if (!strcmp(argv[0], "request-errors")) {
                rd_kafka_resp_err_t errs[64];
                size_t cnt = 0;
                int api;
                char *save2 = NULL;
                if (argc != 3 || !parse_api(argv[1], &api)) {
                        reply_err("usage: request-errors <api> <err>[,<err>...]");
                        return 0;
                }
                for (tok = strtok_r(argv[2], ",", &save2); tok;
                     tok = strtok_r(NULL, ",", &save2)) {
                        if (cnt == 64 || !parse_err(tok, &errs[cnt])) {
                                snprintf(err, sizeof(err),
                                         "unknown error code: %s", tok);
                                reply_err(err);
                                return 0;
                        }
                        cnt++;
                }
                rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, cnt,
                                                        errs);
                reply_ok();
        } else if (!strcmp(argv[0], "delay-next")) {
                long id, ms, count = 1;
                int api;
                if ((argc != 4 && argc != 5) ||
                    !parse_int(argv[1], 1, brokers, &id) ||
                    !parse_api(argv[2], &api) ||
                    !parse_int(argv[3], 0, 3600 * 1000, &ms) ||
                    (argc == 5 && !parse_int(argv[4], 1, 10000, &count))) {
                        reply_err("usage: delay-next <id> <api> <ms> [count]");
                        return 0;
                }
                for (long i = 0; i < count; i++) {
                        rd_kafka_resp_err_t e =
                            rd_kafka_mock_broker_push_request_error_rtts(
                                mc, (int32_t)id, (int16_t)api, 1,
                                RD_KAFKA_RESP_ERR_NO_ERROR, (int)ms);
                        if (e) {
                                reply_err(rd_kafka_err2str(e));
                                return 0;
                        }
                }
                reply_ok();
        } else {
                snprintf(err, sizeof(err),
                         "unknown command: %s (create-topic, broker-down, "
                         "broker-up, broker-rtt, request-errors, delay-next, "
                         "ping, quit)",
                         argv[0]);
                reply_err(err);
        }
        return 0;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        long brokers = 1, max_seconds = 3600;
        int keep_on_eof = 0;
        const char *topics[MAX_TOPICS];
        int topic_cnt = 0;
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
        struct sigaction sa;
        char buf[8192];
        size_t buflen = 0;
        int stdin_open = 1, quit = 0;
        double deadline;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--brokers") && i + 1 < argc) {
                        if (!parse_int(argv[++i], 1, 64, &brokers)) {
                                fprintf(stderr, "--brokers: 1..64\n");
                                return 2;
                        }
                } else if (!strcmp(a, "--max-seconds") && i + 1 < argc) {
                        if (!parse_int(argv[++i], 1, 7 * 24 * 3600,
                                       &max_seconds)) {
                                fprintf(stderr, "--max-seconds: 1..604800\n");
                                return 2;
                        }
                } else if (!strcmp(a, "--topic") && i + 1 < argc) {
                        if (topic_cnt == MAX_TOPICS) {
                                fprintf(stderr, "too many --topic\n");
                                return 2;
                        }
                        topics[topic_cnt++] = argv[++i];
                } else if (!strcmp(a, "--keep-on-eof")) {
                        keep_on_eof = 1;
                } else if (!strcmp(a, "--port")) {
                        fprintf(stderr,
                                "--port is not supported: librdkafka %s's mock "
                                "cluster only listens on ephemeral ports\n",
                                rd_kafka_version_str());
                        return 2;
                } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage(argv[0]);
                        return 0;
                } else {
                        usage(argv[0]);
                        return 2;
                }
        }

#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; /* no SA_RESTART: poll() returns EINTR */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* The mock cluster needs an rd_kafka_t for bookkeeping; a producer
         * with no bootstrap servers never connects anywhere. */
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "client.id", "rlink-mock-broker", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new failed: %s\n", errstr);
                return 1;
        }
        mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
        if (!mc) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        for (int i = 0; i < topic_cnt; i++) {
                char name[256];
                const char *colon = strrchr(topics[i], ':');
                long partitions = 1;
                size_t n = colon ? (size_t)(colon - topics[i])
                                 : strlen(topics[i]);
                if (n >= sizeof(name) ||
                    (colon && !parse_int(colon + 1, 1, 100000, &partitions))) {
                        fprintf(stderr, "bad --topic %s (name:partitions)\n",
                                topics[i]);
                        return 2;
                }
                memcpy(name, topics[i], n);
                name[n] = '\0';
                if (!create_topic(mc, (int)brokers, name, partitions, 1,
                                  errstr, sizeof(errstr))) {
                        fprintf(stderr, "--topic %s: %s\n", topics[i], errstr);
                        return 2;
                }
        }

        fputs("{\"bootstrap\":", stdout);
        json_str(stdout, rd_kafka_mock_cluster_bootstraps(mc));
        fprintf(stdout, ",\"pid\":%ld,\"brokers\":%ld,\"librdkafka\":",
                (long)getpid(), brokers);
        json_str(stdout, rd_kafka_version_str());
        fputs("}\n", stdout);
        fflush(stdout);

        deadline = now_s() + (double)max_seconds;
        while (!stop_signal && !quit) {
                double left = deadline - now_s();
                struct pollfd pfd = {.fd = 0, .events = POLLIN};
                int r;
                if (left <= 0) {
                        fprintf(stderr,
                                "mock-broker: --max-seconds %ld reached, "
                                "exiting\n",
                                max_seconds);
                        break;
                }
                if (!stdin_open) {
                        /* Only signals or the deadline end us now. */
                        poll(NULL, 0, left > 1 ? 1000 : (int)(left * 1000) + 1);
                        continue;
                }
                r = poll(&pfd, 1, left > 1 ? 1000 : (int)(left * 1000) + 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("poll");
                        break;
                }
                if (r == 0)
                        continue;
                {
                        ssize_t got = read(0, buf + buflen,
                                           sizeof(buf) - 1 - buflen);
                        char *nl;
                        if (got < 0) {
                                if (errno == EINTR || errno == EAGAIN)
                                        continue;
                                got = 0; /* treat as EOF */
                        }
                        if (got == 0) {
                                stdin_open = 0;
                                if (!keep_on_eof)
                                        break;
                                continue;
                        }
                        buflen += (size_t)got;
                        buf[buflen] = '\0';
                        while (!quit && (nl = memchr(buf, '\n', buflen))) {
                                size_t linelen = (size_t)(nl - buf) + 1;
                                *nl            = '\0';
                                quit = handle_command(mc, (int)brokers, buf);
                                memmove(buf, buf + linelen, buflen - linelen);
                                buflen -= linelen;
                                buf[buflen] = '\0';
                        }
                        if (buflen == sizeof(buf) - 1) {
                                reply_err("command line too long");
                                buflen = 0;
                        }
                }
        }

        /* Bounded shutdown. */
        signal(SIGALRM, on_alarm);
        alarm(10);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
