/* logfmt lines: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static FILE *log_out;
static enum config_log_level log_min = CONFIG_LOG_INFO;

static const char *const level_names[] = {"", "debug", "info", "warn", "error"};

void log_init(FILE *out, enum config_log_level min)
{
    log_out = out;
    log_min = min;
}

int log_enabled(enum config_log_level level)
{
    return log_out && level >= log_min;
}

/* A line, or one pair, under construction. A pair that does not fit in
 * the line is left out, with every pair after it, and the line ends with
 * " truncated=true": what is written always parses. */
typedef struct line {
    char buf[4096];
    size_t len;
    int over;
} line;

#define LINE_RESERVE 32 /* the truncation mark and the newline */

static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - LINE_RESERVE - l->len;
    if (n > room) {
        n = room;
        l->over = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* A value: bare when it is a non-empty run of printable bytes other than
 * space, '=' and '"'; otherwise quoted with escapes. */
static void put_value(line *l, const char *v)
{
    int bare = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p && bare; p++)
        bare = *p > ' ' && *p != '=' && *p != '"' && *p != '\\' && *p != 0x7f;
    if (bare) {
        put_str(l, v);
        return;
    }
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[5];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p == '\n') {
            put(l, "\\n", 2);
        } else if (*p == '\t') {
            put(l, "\\t", 2);
        } else if (*p < ' ' || *p == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[*p >> 4];
            esc[3] = hex[*p & 15];
            put(l, esc, 4);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

/* Appends " key=value" whole, or marks the line truncated. */
static void add_pair(line *l, const char *key, const char *value)
{
    static _Thread_local line pair;
    pair.len = 0;
    pair.over = 0;
    put(&pair, " ", 1);
    put_str(&pair, key);
    put(&pair, "=", 1);
    put_value(&pair, value);
    if (pair.over || l->len + pair.len > sizeof(l->buf) - LINE_RESERVE) {
        l->over = 1;
        return;
    }
    memcpy(l->buf + l->len, pair.buf, pair.len);
    l->len += pair.len;
}

void log_line(enum config_log_level level, const char *msg, ...)
{
    if (!log_enabled(level))
        return;
    line l = {.len = 0};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[96];
    snprintf(ts, sizeof(ts),
             "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(now.tv_nsec / 1000000));
    put_str(&l, ts);
    put_str(&l, level_names[level]);
    add_pair(&l, "msg", msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        if (!l.over)
            add_pair(&l, key, value ? value : "");
    }
    va_end(ap);
    if (l.over) {
        memcpy(l.buf + l.len, " truncated=true", 15);
        l.len += 15;
    }
    l.buf[l.len++] = '\n';
    fwrite(l.buf, 1, l.len, log_out);
    fflush(log_out);
}
