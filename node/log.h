/* Structured log lines in logfmt on one stream (stderr in the node):
 *   ts=2026-12-06T01:45:16.123Z level=info msg="peer link open"
 * peer=10.0.0.2:7400 One line per call, written with one fwrite so lines from
 * different threads do not interleave. Values are quoted when they need it,
 * with
 * `"`, `\` and control bytes escaped, so every line parses back to exactly
 * the pairs given.
 *
 * Any thread after log_init(). */
#ifndef ORIGO_NODE_LOG_H
#define ORIGO_NODE_LOG_H

#include <stdio.h>

#include "config.h"

/* Lines below `min` are dropped. */
void log_init(FILE *out, enum config_log_level min);
/* Writes one line: msg, then key/value string pairs ending with NULL
 * (keys are plain words, values anything). */
void log_line(enum config_log_level level, const char *msg, ...)
    __attribute__((sentinel));
/* Whether a line at `level` would be written (to skip building values). */
int log_enabled(enum config_log_level level);

#define LOG_DEBUG(...) log_line(CONFIG_LOG_DEBUG, __VA_ARGS__, (char *)NULL)
#define LOG_INFO(...) log_line(CONFIG_LOG_INFO, __VA_ARGS__, (char *)NULL)
#define LOG_WARN(...) log_line(CONFIG_LOG_WARN, __VA_ARGS__, (char *)NULL)
#define LOG_ERROR(...) log_line(CONFIG_LOG_ERROR, __VA_ARGS__, (char *)NULL)

#endif
