/*
 * The core library's one public header: errors, buffers, arenas, JSON with
 * limits, logging and small utilities. Include it after every system header:
 * it ends with banned.h.
 */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include "err.h"
#include "buf.h"
#include "arena.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "banned.h"

#endif
