/* `origo demo`: placeholder until the ledger lands; see scripts/demo. */
#include <stdio.h>

#include "cmd.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "origo demo: not available in this build yet\n");
    return 2;
}
