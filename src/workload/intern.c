/*
 * intern.c - string to dense id table for the text trace readers (see intern.h).
 *
 * Open addressing with linear probing on a 64-bit FNV-1a hash, grown at half load so probes
 * stay short; each string is copied once. Ids are handed out in order of first appearance, so
 * the same file always gives the same ids.
 */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"

void ho_intern_init(struct ho_intern *t)
{
    t->slots = NULL;
    t->cap = 0;
    t->n = 0;
}

void ho_intern_free(struct ho_intern *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].str);
    }
    free(t->slots);
    ho_intern_init(t);
}

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
    }
    return h;
}

static int grow(struct ho_intern *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    struct ho_intern_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) {
        return HO_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        struct ho_intern_slot *s = &t->slots[i];
        if (!s->str) {
            continue;
        }
        size_t j = s->hash & (ncap - 1);
        while (ns[j].str) {
            j = (j + 1) & (ncap - 1);
        }
        ns[j] = *s;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return HO_OK;
}

int64_t ho_intern_id(struct ho_intern *t, const char *s, size_t len)
{
    if ((size_t)t->n + 1 > t->cap / 2) {
        if (t->n == UINT32_MAX) {
            return HO_ENOSPC;
        }
        int rc = grow(t);
        if (rc != HO_OK) {
            return rc;
        }
    }
    uint64_t h = fnv1a(s, len);
    size_t j = h & (t->cap - 1);
    while (t->slots[j].str) {
        struct ho_intern_slot *e = &t->slots[j];
        if (e->hash == h && strlen(e->str) == len && memcmp(e->str, s, len) == 0) {
            return e->id;
        }
        j = (j + 1) & (t->cap - 1);
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        return HO_ENOMEM;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    t->slots[j] = (struct ho_intern_slot){.hash = h, .str = copy, .id = t->n};
    return t->n++;
}
