/* Umbrella header of liborigo: includes every public header of the SDK core.
 * Each header is also self-contained and may be included on its own. */
#ifndef ORIGO_ORIGO_H
#define ORIGO_ORIGO_H

#include "origo/error.h"
#include "origo/codec.h"
#include "origo/keys.h"
#include "origo/event.h"

#endif
