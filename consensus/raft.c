/* The Raft protocol state machine: TODO (work in progress). */
#include "raft.h"
