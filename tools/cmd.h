/* The origo CLI's verbs. Each verb lives in its own tools/cmd_<verb>.c file
 * and is called with argv[0] set to the verb's name. A verb returns the
 * process exit status: 0 success, 1 a negative verdict (a proof or audit
 * that failed), 2 a usage or input error. It prints its errors itself,
 * naming the file, the field and what was expected. */
#ifndef ORIGO_TOOLS_CMD_H
#define ORIGO_TOOLS_CMD_H

#include <stdint.h>

#include "origo/codec.h"

int cmd_keygen(int argc, char **argv);
int cmd_event(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_genesis(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_demo(int argc, char **argv);
/* Against running nodes (cmd_net.c). */
int cmd_submit(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int net_prove(int argc, char **argv);
int net_trace(int argc, char **argv);
/* Builds and signs an event from origo event's flags (cmd_event.c).
 * Returns 0, or 2 after printing why. */
int event_from_flags(int argc, char **argv, origo_buf *envelope,
                     uint8_t id[32]);
/* Whether argv holds --node (the network form of prove and trace). */
int cmd_has_node(int argc, char **argv);

#endif
