/*
 * sel_thresh.c - the selection policy Tn, threshold on enqueues (paper sections 3.3 and 5.2).
 *
 * "The operating system attempts a handoff when the n-th enqueue operation to the connection's
 * send socket buffer occurs": enqueues are proportional to packets sent, so a connection that
 * reaches n is likely a long one. The selector counts the enqueues (c->enqueues includes the
 * present one), so the policy keeps no state of its own.
 */
#include "policy_plugin.h"

static enum ho_sel_answer thresh_enqueued(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                          union ho_sel_area *mine, const struct ho_sel_enqueue *e)
{
    (void)mine;
    (void)e;
    return c->enqueues == v->policy->threshold ? HO_SEL_ANSWER_OFFER : HO_SEL_ANSWER_KEEP;
}

const struct ho_sel_plugin ho_sel_thresh = {
    .name = "T",
    .takes_n = true,
    .enqueued = thresh_enqueued,
};
