/*
 * intern.h - maps strings (client hosts, URLs) to dense ids 0, 1, 2 ... in order of first
 * appearance (private to src/workload).
 */
#ifndef HO_WORKLOAD_INTERN_H
#define HO_WORKLOAD_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct ho_intern_slot {
    uint64_t hash;
    char *str; /* NULL when the slot is free */
    uint32_t id;
};

struct ho_intern {
    struct ho_intern_slot *slots;
    size_t cap; /* a power of two */
    uint32_t n; /* strings held == next id */
};

void ho_intern_init(struct ho_intern *t);
void ho_intern_free(struct ho_intern *t);
/* Returns the id of s[0..len) (adding it if new), or HO_ENOMEM, or HO_ENOSPC past 2^32 - 1
 * strings. */
int64_t ho_intern_id(struct ho_intern *t, const char *s, size_t len);

#endif
