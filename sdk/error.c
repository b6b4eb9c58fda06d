/* The message and name lookups for the error table in origo/error.h. Kept
 * apart from everything else so that every component can link it. */
#include "origo/error.h"

#include <string.h>

const char *origo_strerror(int code)
{
    switch (code) {
#define ORIGO_ERROR_MSG(name, value, msg)                                      \
    case value:                                                                \
        return msg;
        ORIGO_ERROR_TABLE(ORIGO_ERROR_MSG)
#undef ORIGO_ERROR_MSG
    }
    return "unknown error";
}

const char *origo_errname(int code)
{
    switch (code) {
#define ORIGO_ERROR_NAME(name, value, msg)                                     \
    case value:                                                                \
        return "ORIGO_E_" #name;
        ORIGO_ERROR_TABLE(ORIGO_ERROR_NAME)
#undef ORIGO_ERROR_NAME
    }
    return "ORIGO_E_UNKNOWN";
}

int origo_errcode(const char *name)
{
#define ORIGO_ERROR_NAME(n, value, msg)                                        \
    if (name && !strcmp(name, "ORIGO_E_" #n))                                  \
        return value;
    ORIGO_ERROR_TABLE(ORIGO_ERROR_NAME)
#undef ORIGO_ERROR_NAME
    return ORIGO_E_INTERNAL;
}

static _Thread_local int os_cause;

int origo_os_cause(void)
{
    return os_cause;
}

void origo_set_os_cause(int err)
{
    os_cause = err;
}
