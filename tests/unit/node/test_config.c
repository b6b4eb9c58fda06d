/* origo-node's configuration file (node/config.c): the shipped example
 * parses to exactly the documented defaults; every kind of mistake stops
 * with one message naming the file, the line, the key and what is allowed;
 * a file with a mistake changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "origo/error.h"

static node_config cfg;
static char msg[512];

static int parse(const char *text)
{
    return config_parse("node.conf", text, strlen(text), &cfg, msg,
                        sizeof(msg));
}

/* The text must be refused with a message containing `want`. */
static void refused(const char *text, const char *want)
{
    node_config before;
    config_defaults(&before);
    snprintf(before.data, sizeof(before.data), "untouched");
    cfg = before;
    int rc = parse(text);
    if (rc != ORIGO_E_CONFIG || !strstr(msg, want))
        fail_msg("for:\n%s\nwanted ORIGO_E_CONFIG with \"%s\", got %d: %s",
                 text, want, rc, msg);
    assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_example_is_the_defaults(void **state)
{
    (void)state;
    int rc = config_load(ORIGO_SOURCE_ROOT "/deploy/origo-node.conf.example",
                         &cfg, msg, sizeof(msg));
    if (rc)
        fail_msg("%s", msg);
    node_config want;
    config_defaults(&want);
    snprintf(want.data, sizeof(want.data), "/var/lib/origo");
    snprintf(want.key, sizeof(want.key), "/var/lib/origo/validator.key");
    snprintf(want.genesis, sizeof(want.genesis), "/var/lib/origo/genesis.json");
    assert_memory_equal(&cfg, &want, sizeof(cfg));
}

static void test_values(void **state)
{
    (void)state;
    const char *text = "; a comment\r\n"
                       "# another\r\n"
                       "[node]\r\n"
                       "data = relative/dir ; inline comment\r\n"
                       "log_level = debug\r\n"
                       "[peer]\n"
                       "listen = [::]:7401\n"
                       "advertise = plant-a.example.com:7401\n"
                       "frame_cap = 65536\n"
                       "idle_timeout_ms = 0\n"
                       "reconnect_min_ms = 10\n"
                       "reconnect_max_ms = 10";
    assert_int_equal(parse(text), 0);
    assert_string_equal(cfg.data, "relative/dir");
    assert_int_equal(cfg.log_level, CONFIG_LOG_DEBUG);
    assert_string_equal(cfg.listen.host, "::");
    assert_int_equal(cfg.listen.port, 7401);
    assert_string_equal(cfg.advertise, "plant-a.example.com:7401");
    assert_int_equal(cfg.frame_cap, 65536);
    assert_int_equal(cfg.idle_timeout_ms, 0);
    assert_int_equal(cfg.send_queue_max, 64u << 20); /* default kept */
}

static void test_mistakes(void **state)
{
    (void)state;
    refused("[node]\ndata = /d\n[peer]\nframe_size = 1\n",
            "node.conf:4: [peer] frame_size: unknown key; the keys of [peer] "
            "are listen, advertise, frame_cap, send_queue_max");
    refused("[node]\ndata = /d\n[htp]\nlisten = 1.2.3.4:80\n",
            "node.conf:3: [htp]: unknown section; sections are [node], "
            "[peer], [http], [raft], [submit] and [cosign]");
    /* With no key under it, or no name at all. */
    refused("[node]\ndata = /d\n[nodes]\n", "node.conf:3: [nodes]: unknown "
                                            "section");
    refused("[node]\ndata = /d\n[]\n", "node.conf:3: []: unknown section");
    refused("[node]\ndata = /d\n[http]\nlisten = 1.2.3.4\n",
            "node.conf:4: [http] listen = 1.2.3.4: write host:port (default "
            "127.0.0.1:7401)");
    refused("data = /d\n", "node.conf:1: data: a key before any [section]");
    refused("[node]\ndata = /d\n[peer]\nadvertise = plant-a\n",
            "node.conf:4: [peer] advertise = plant-a: allowed: host:port");
    refused("[node]\ndata = /d\n[peer]\nadvertise = a:70000\n",
            "[peer] advertise = a:70000: allowed: host:port");
    refused("[node]\ndata = /d\n[peer]\nadvertise = :7400\n",
            "[peer] advertise = :7400: allowed: host:port");
    refused("[node]\ndata = /d\n[peer]\nframe_cap = 16M\n",
            "node.conf:4: [peer] frame_cap = 16M: allowed: a whole number "
            "from 65536 to 268435456 bytes");
    refused("[node]\ndata = /d\n[peer]\nframe_cap = 1024\n",
            "from 65536 to 268435456 bytes");
    refused("[node]\ndata = /d\n[peer]\nframe_cap = -1\n", "whole number");
    refused("[node]\ndata = /d\n[peer]\nframe_cap = 99999999999999999999999\n",
            "whole number");
    refused("[node]\ndata = /d\ndata = /e\n",
            "node.conf:3: [node] data: set twice (first on line 2); keep one");
    refused("[node]\ndata = /d\nlog_level = verbose\n",
            "node.conf:3: [node] log_level = verbose: allowed: debug, info, "
            "warn, error");
    refused("[node]\ndata = /d\n[peer]\nlisten = myhost:7400\n",
            "node.conf:4: [peer] listen = myhost:7400: the address to listen "
            "on is an IP address");
    refused("[node]\ndata = /d\n[peer]\nlisten = 1.2.3.4\n", "write host:port");
    refused("[node]\ndata = /d\n[peer]\nlisten = 1.2.3.4:0\n",
            "the port is a whole number from 1 to 65535");
    refused("[node]\ndata = /d\n[peer]\nlisten = 1.2.3.4:65536\n",
            "from 1 to 65535");
    refused("[node]\ndata = /d\n[peer]\nlisten = fe80::1:7400\n",
            "an IPv6 address is written [address]:port");
    refused("[node]\ndata = /d\n[peer]\nlisten = [::1]\n",
            "an IPv6 address is written [address]:port");
    refused("[node]\ndata = /d\n[peer]\nlisten = [nope]:1\n",
            "not an IPv6 address");
    refused("[node]\ndata = /d\njust some words\n",
            "node.conf:3: not a `key = value` line, a [section] or a comment");
    refused("[node]\ndata = /d\n[peer\n", "node.conf:3: not a `key = value`");
    refused("[node]\ndata = /d\n  log_level = info\n",
            "node.conf:3: an indented line");
    refused("[peer]\nlisten = 0.0.0.0:1\n",
            "node.conf: [node] data is required");
    refused("[node]\ndata = /d\n[peer]\nreconnect_max_ms = 50\n"
            "reconnect_min_ms = 100\n",
            "node.conf:4: [peer] reconnect_max_ms (50) is below "
            "reconnect_min_ms (100)");
    refused("[node]\ndata =\n", "node.conf:2: [node] data: a path of 1 to");

    /* The first mistake is the one reported, wherever inih's own is. */
    refused("[node]\ndata = /d\nlog_level = loud\nno equals sign\n",
            "node.conf:3: [node] log_level = loud");
    refused("[node]\nno equals sign\nlog_level = loud\n",
            "node.conf:2: not a `key = value`");
}

static void test_odd_bytes(void **state)
{
    (void)state;
    char line[400];
    memset(line, 'x', sizeof(line));
    memcpy(line, "[node]\ndata = /", 15);
    line[sizeof(line) - 1] = '\0';
    refused(line, "node.conf:2: the line is longer than 196 characters");
    /* Exactly 196 characters is fine. */
    char ok[300] = "[node]\ndata = /";
    size_t at = strlen(ok);
    while (at < 7 + 196)
        ok[at++] = 'y';
    ok[at] = '\0';
    assert_int_equal(parse(ok), 0);

    const char nul[] = "[node]\ndata = /d\0x\n";
    node_config before = cfg;
    assert_int_equal(
        config_parse("node.conf", nul, sizeof(nul) - 1, &cfg, msg, sizeof(msg)),
        ORIGO_E_CONFIG);
    assert_non_null(strstr(msg, "node.conf:2: the line holds a NUL byte"));
    assert_memory_equal(&cfg, &before, sizeof(cfg));

    assert_int_equal(
        config_load("/nonexistent/origo.conf", &cfg, msg, sizeof(msg)),
        ORIGO_E_IO);
    assert_non_null(
        strstr(msg, "/nonexistent/origo.conf: cannot read: No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_is_the_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_odd_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
