/*
 * gen.h - the synthetic generators behind ho_wl (private to src/workload; the tests include
 * it to check the models against their documented targets).
 *
 * Each generator splits its work in two: a connection length drawn from the client's stream
 * when the connection is handed out, and the requests drawn one by one from the connection's
 * own stream when they are pulled. The tables they read (object catalog, Zipf tables) are
 * built once, at creation, and never change.
 */
#ifndef HO_WORKLOAD_GEN_H
#define HO_WORKLOAD_GEN_H

#include <stdint.h>

#include "dist.h"
#include "handoff/workload.h"

/* ---- W and I: heavy-tailed web traffic ---- */

/* The parameters of a W- or I-like workload (docs/workloads.md justifies each number). */
struct ho_web_model {
    double n_mu; /* requests per connection: ceil(lognormal(n_mu, n_sigma)) ... */
    double n_sigma;
    uint32_t n_max; /* ... clamped to [1, n_max] */
    double p304;    /* share of requests answered 304 Not Modified, no body */
    double body_mu; /* object sizes: a lognormal body (bytes, natural log) ... */
    double body_sigma;
    double tail_p;     /* ... and a Pareto tail holding this share of the objects, */
    double tail_k;     /* with this scale (bytes) */
    double tail_alpha; /* and shape */
    uint32_t size_max; /* every size is capped here (bytes) */
    uint32_t objects;  /* objects in the catalog, each requested with equal probability */
};

struct ho_genweb {
    const struct ho_web_model *m;
    uint32_t *size; /* size[object id], bytes */
};

/* The model of HO_WL_WORLDCUP or HO_WL_IBM, NULL for any other type. */
const struct ho_web_model *ho_genweb_model(enum ho_wl_type type);
/* Builds the object catalog of `type`; the multiset of sizes is fixed by the model, the seed
 * only decides which id gets which size. Returns HO_OK, HO_EINVAL or HO_ENOMEM. */
int ho_genweb_init(struct ho_genweb *g, enum ho_wl_type type, uint64_t seed);
void ho_genweb_free(struct ho_genweb *g);
/* Draws a connection's number of requests. */
uint32_t ho_genweb_conn_len(const struct ho_genweb *g, struct ho_rng *r);
/* Draws one request. */
void ho_genweb_req(const struct ho_genweb *g, struct ho_rng *r, struct ho_req *out);
/* The exact mean of ho_genweb_conn_len (a sum of normal tails). */
double ho_genweb_mean_requests(const struct ho_web_model *m);
/* The mean object size of the built catalog, bytes. */
double ho_genweb_catalog_mean(const struct ho_genweb *g);

/* ---- D and S: SPECweb99 ---- */

#define HO_SPEC_CLASSES        4
#define HO_SPEC_FILES          9      /* files per class */
#define HO_SPEC_DIR_FILES      36     /* files per directory */
#define HO_SPEC_RATE_BPS       400000 /* each client's ceiling, bits per second */
#define HO_SPEC_DYN_WRAP_BYTES 280    /* HTML a dynamic response adds around the file */
#define HO_SPEC_POST_BYTES     100    /* body of a dynamic POST request */
#define HO_SPEC_KA_MIN         5      /* requests on a keep-alive connection: uniform in ... */
#define HO_SPEC_KA_MAX         15     /* ... [KA_MIN, KA_MAX], mean 10 */
#define HO_SPEC_KA_REQ_SHARE   0.70   /* share of requests sent on keep-alive connections */

extern const double ho_spec_class_prob[HO_SPEC_CLASSES];
extern const uint32_t ho_spec_class_base[HO_SPEC_CLASSES];
extern const uint8_t ho_spec_rank_to_file[HO_SPEC_FILES];
/* Shares of all requests by kind for D, indexed by enum ho_req_kind. */
extern const double ho_spec_kind_share[HO_REQ_KIND_COUNT];

struct ho_genspec {
    int dynamic;         /* 1 for D, 0 for S */
    uint32_t dirs;       /* directories in the file set */
    double p_keepalive;  /* share of connections that are keep-alive */
    struct ho_zipf dir;  /* Zipf(1) over directories */
    struct ho_zipf file; /* Zipf(1) over the 9 file ranks of a class */
};

/* Directories for `connections` simultaneous connections: int(25 + 0.6557 x connections). */
uint32_t ho_genspec_dirs(uint32_t connections);
/* Size of file `file` (0..8) of class `cls` (0..3): base[cls] x (file + 1) / 10, bytes. */
uint32_t ho_genspec_file_size(unsigned cls, unsigned file);
/* Object id of a file: dir x 36 + cls x 9 + file. */
uint32_t ho_genspec_object(uint32_t dir, unsigned cls, unsigned file);
/* Builds the tables for HO_WL_SPECWEB (dynamic) or HO_WL_SPECWEB_STATIC with `clients`
 * simultaneous connections. Returns HO_OK, HO_EINVAL or HO_ENOMEM. */
int ho_genspec_init(struct ho_genspec *g, enum ho_wl_type type, uint32_t clients);
void ho_genspec_free(struct ho_genspec *g);
uint32_t ho_genspec_conn_len(const struct ho_genspec *g, struct ho_rng *r);
void ho_genspec_req(const struct ho_genspec *g, struct ho_rng *r, struct ho_req *out);

#endif
