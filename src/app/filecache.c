/*
 * filecache.c - the server's cache of mapped files (filecache.h).
 *
 * Entries are found by a hash of the path, chained in buckets, and listed in one array for
 * eviction, which scans for the least recently used entry nobody holds (only when the cache is
 * full, so at most once per new file). An entry replaced or removed while a response holds it
 * leaves the buckets and lives on until its last holder gives it back.
 */
#include "filecache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/err.h"

#define FC_BUCKETS 4096u

struct fc_entry {
    struct fc_file f; /* first: fc_put gets the entry back from the file */
    char *path;
    uint64_t hash;
    dev_t dev;
    ino_t ino;
    uint64_t checked_ns; /* when it was last compared with the file system */
    uint64_t used;       /* the cache's clock when it was last handed out */
    uint32_t refs;
    bool listed;           /* in the buckets (else replaced, waiting for its last holder) */
    struct fc_entry *next; /* bucket chain */
    uint32_t slot;         /* index in fc.all */
};

struct fc {
    uint32_t max_files;
    uint64_t max_bytes, revalidate_ns;
    struct fc_entry *buckets[FC_BUCKETS];
    struct fc_entry **all; /* every entry, listed or not */
    uint32_t nall, capall;
    uint32_t nlisted;
    uint64_t bytes; /* mapped by listed entries */
    uint64_t clock;
};

static uint64_t hash_path(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    }
    return h;
}

struct fc *fc_create(uint32_t max_files, uint64_t max_bytes, uint64_t revalidate_ns)
{
    struct fc *c = calloc(1, sizeof *c);
    if (c) {
        c->max_files = max_files ? max_files : 1;
        c->max_bytes = max_bytes;
        c->revalidate_ns = revalidate_ns;
    }
    return c;
}

static void entry_free(struct fc *c, struct fc_entry *e)
{
    c->all[e->slot] = c->all[--c->nall];
    c->all[e->slot]->slot = e->slot;
    if (e->f.bytes) {
        munmap((void *)(uintptr_t)e->f.bytes, (size_t)e->f.size);
    }
    free(e->path);
    free(e);
}

/* Takes e out of the buckets; it is freed now, or by its last holder. */
static void unlist(struct fc *c, struct fc_entry *e)
{
    struct fc_entry **p = &c->buckets[e->hash % FC_BUCKETS];
    while (*p != e) {
        p = &(*p)->next;
    }
    *p = e->next;
    e->listed = false;
    c->nlisted--;
    c->bytes -= e->f.size;
    if (e->refs == 0) {
        entry_free(c, e);
    }
}

void fc_destroy(struct fc *c)
{
    if (!c) {
        return;
    }
    while (c->nall > 0) {
        entry_free(c, c->all[c->nall - 1]);
    }
    free(c->all);
    free(c);
}

/* Makes room for one more file of size bytes: evicts the least recently used entries nobody
 * holds. */
static void make_room(struct fc *c, uint64_t size)
{
    while (c->nlisted > 0 && (c->nlisted >= c->max_files || c->bytes + size > c->max_bytes)) {
        struct fc_entry *victim = NULL;
        for (uint32_t i = 0; i < c->nall; i++) {
            struct fc_entry *e = c->all[i];
            if (e->listed && e->refs == 0 && (!victim || e->used < victim->used)) {
                victim = e;
            }
        }
        if (!victim) {
            return; /* all in use: go over the bounds until they are given back */
        }
        unlist(c, victim);
    }
}

/* A new entry for the file open at fd, mapped. */
static int entry_new(struct fc *c, const char *path, uint64_t hash, const struct ho_docfile *df,
                     const struct stat *st, uint64_t now, struct fc_entry **out)
{
    if (c->nall == c->capall) {
        uint32_t cap = c->capall ? 2 * c->capall : 64;
        struct fc_entry **all = realloc(c->all, cap * sizeof *all);
        if (!all) {
            return HO_ENOMEM;
        }
        c->all = all; /* kept at once: realloc may have freed the old array */
        c->capall = cap;
    }
    struct fc_entry *e = calloc(1, sizeof *e);
    char *p = strdup(path);
    if (!e || !p) {
        free(e);
        free(p);
        return HO_ENOMEM;
    }
    if (df->size > 0) {
        void *m = mmap(NULL, (size_t)df->size, PROT_READ, MAP_PRIVATE, df->fd, 0);
        if (m == MAP_FAILED) {
            free(e);
            free(p);
            return HO_ENOMEM;
        }
        e->f.bytes = m;
    }
    make_room(c, df->size);
    e->f.size = df->size;
    e->f.mtime = df->mtime;
    e->f.content_type = df->content_type;
    e->path = p;
    e->hash = hash;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->checked_ns = now;
    e->listed = true;
    e->next = c->buckets[hash % FC_BUCKETS];
    c->buckets[hash % FC_BUCKETS] = e;
    e->slot = c->nall;
    c->all[c->nall++] = e;
    c->nlisted++;
    c->bytes += e->f.size;
    *out = e;
    return HO_OK;
}

int fc_get(struct fc *c, const struct ho_docroot *dr, const char *path, uint64_t now,
           const struct fc_file **out, int *status)
{
    uint64_t h = hash_path(path);
    struct fc_entry *e = c->buckets[h % FC_BUCKETS];
    while (e && (e->hash != h || strcmp(e->path, path) != 0)) {
        e = e->next;
    }
    if (e && now >= e->checked_ns && now - e->checked_ns < c->revalidate_ns) {
        e->refs++;
        e->used = ++c->clock;
        *status = 200;
        *out = &e->f;
        return HO_OK;
    }
    /* Not cached, or due for a check: look it up. */
    struct ho_docfile df;
    int rc = ho_docroot_lookup(dr, path, &df, status);
    struct stat st;
    if (rc == HO_OK && fstat(df.fd, &st) != 0) {
        rc = HO_ESTATE;
        *status = 500;
    }
    if (rc != HO_OK) {
        ho_docfile_close(&df);
        if (e) {
            unlist(c, e); /* gone, or refused now */
        }
        return rc;
    }
    if (e && e->dev == st.st_dev && e->ino == st.st_ino && e->f.size == df.size &&
        e->f.mtime == df.mtime) {
        e->checked_ns = now; /* unchanged */
    } else {
        if (e) {
            unlist(c, e); /* changed: a new mapping replaces it */
        }
        rc = entry_new(c, path, h, &df, &st, now, &e);
        if (rc != HO_OK) {
            ho_docfile_close(&df);
            *status = 500;
            return rc;
        }
    }
    ho_docfile_close(&df); /* the mapping outlives the descriptor */
    e->refs++;
    e->used = ++c->clock;
    *out = &e->f;
    return HO_OK;
}

void fc_put(struct fc *c, const struct fc_file *f)
{
    struct fc_entry *e = (struct fc_entry *)(uintptr_t)f; /* f is the entry's first member */
    e->refs--;
    if (e->refs == 0 && !e->listed) {
        entry_free(c, e);
    }
}
