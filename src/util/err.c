/*
 * err.c - names of the HO_E* error codes (see include/handoff/err.h).
 */
#include "handoff/err.h"

const char *ho_strerror(int err)
{
    switch (err) {
    case HO_OK:
        return "success";
    case HO_EINVAL:
        return "invalid argument";
    case HO_ENOSPC:
        return "no space left in a bounded container";
    case HO_ENOENT:
        return "no such entry";
    case HO_EEXIST:
        return "entry already exists";
    case HO_ENOMEM:
        return "out of memory";
    case HO_EMSGSIZE:
        return "message truncated or too long";
    case HO_EPROTO:
        return "malformed message";
    case HO_EVERSION:
        return "unsupported message version";
    case HO_ESTATE:
        return "operation not allowed in this state";
    case HO_EAGAIN:
        return "try again later";
    case HO_ELIMIT:
        return "refused by a policy limit";
    default:
        return "unknown error";
    }
}
