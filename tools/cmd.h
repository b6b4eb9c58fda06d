/* The origo CLI's verbs. Each verb lives in its own tools/cmd_<verb>.c file
 * and is called with argv[0] set to the verb's name. A verb returns the
 * process exit status: 0 success, 1 a negative verdict (a proof or audit
 * that failed), 2 a usage or input error. It prints its errors itself,
 * naming the file, the field and what was expected. */
#ifndef ORIGO_TOOLS_CMD_H
#define ORIGO_TOOLS_CMD_H

int cmd_keygen(int argc, char **argv);
int cmd_event(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_genesis(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
