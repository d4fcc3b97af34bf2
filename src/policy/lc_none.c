/*
 * lc_none.c - the load-control policy "N": none.
 *
 * Soft limit stays at Hard limit and the machine stays in MONITOR, so the NIC admits
 * connections while it has memory for them and never advertises. The paper's P-N and N-N
 * configurations.
 */
#include "policy_plugin.h"

const struct ho_lc_plugin ho_lc_none = {
    .name = "N",
    .evaluate = NULL,
};
