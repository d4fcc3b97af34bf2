/*
 * err.h - the one error convention of handoff.
 *
 * Every function that can fail returns an int: zero or a positive result on success, one of the
 * negative HO_E* codes below on failure. Codes are stable (they appear in traces and tests), so
 * new ones are only ever appended.
 */
#ifndef HANDOFF_ERR_H
#define HANDOFF_ERR_H

enum ho_err {
    HO_OK = 0,
    HO_EINVAL = -1,   /* an argument or parameter is out of its documented range */
    HO_ENOSPC = -2,   /* a bounded container is full (table, queue, buffer) */
    HO_ENOENT = -3,   /* no such entry */
    HO_EEXIST = -4,   /* the entry is already present */
    HO_ENOMEM = -5,   /* an allocation failed */
    HO_EMSGSIZE = -6, /* a message or field is truncated or longer than its container */
    HO_EPROTO = -7,   /* a message is malformed (bad type, bad field value, inconsistent lengths) */
    HO_EVERSION = -8, /* a message carries a version this build does not speak */
    HO_ESTATE = -9,   /* the operation is not allowed in the object's current state */
    HO_EAGAIN = -10,  /* nothing to do now; try again later */
    HO_ELIMIT = -11,  /* a policy limit refuses the operation (e.g. Soft limit reached) */
};

/* Returns a short constant description of an HO_E* code ("unknown error" for anything else). */
const char *ho_strerror(int err);

#endif
