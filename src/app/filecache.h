/*
 * filecache.h - the server's cache of mapped files, as Flash keeps one (Pai, Druschel and
 * Zwaenepoel, USENIX 1999: pathname translations and mapped files are cached, so that a
 * request for a popular file costs neither a lookup nor a mapping).
 *
 * A path maps to its open, mapped file. An entry is checked against the file system again
 * (looked up, and compared by device, inode, size and modification time) when it is older than
 * the revalidation interval, so a changed file is served changed within that interval. Mapping
 * and unmapping cost more than the lookup in a threaded process: each munmap makes every other
 * processor running the process flush its TLB. Entries in use by a response (refs > 0) are never
 * evicted; the least recently used of the others go when the cache holds more than its entries
 * or bytes. Failures (404, 403, ...) are not cached. Used by httpd.c on real payload only.
 *
 * Replace a served file by renaming a new one over it, as deployments do: the mappings held
 * keep the old file's bytes. A file truncated in place under a mapping (`cp new old`, a shell's
 * `>`) makes reads past its new end fault (SIGBUS), in this server as in any server that maps
 * its files.
 */
#ifndef HANDOFF_APP_FILECACHE_H
#define HANDOFF_APP_FILECACHE_H

#include <stdint.h>

#include "handoff/docroot.h"

/* A cached file; read-only for the user. */
struct fc_file {
    const uint8_t *bytes; /* the file's bytes, mapped (NULL when size is 0) */
    uint64_t size;
    int64_t mtime;            /* seconds since the epoch */
    const char *content_type; /* constant */
};

struct fc;

/* A cache of at most max_files files and max_bytes mapped bytes, revalidated after
 * revalidate_ns. Returns NULL when out of memory. */
struct fc *fc_create(uint32_t max_files, uint64_t max_bytes, uint64_t revalidate_ns);

/* Frees the cache; every file must have been given back. NULL is allowed. */
void fc_destroy(struct fc *c);

/*
 * The file at path beneath dr (as ho_docroot_lookup takes it), at time now: HO_OK, *status 200
 * and *out, which the caller gives back with fc_put; or the error and status of
 * ho_docroot_lookup (a mapping that fails is HO_ENOMEM, 500).
 */
int fc_get(struct fc *c, const struct ho_docroot *dr, const char *path, uint64_t now,
           const struct fc_file **out, int *status);

/* Gives back a file fc_get returned. */
void fc_put(struct fc *c, const struct fc_file *f);

#endif
