/*
 * sel_bytes.c - the selection policy Bn, size-aware: offer a connection when the bytes its
 * current response still has to send reach n KB.
 *
 * Tn guesses a connection's length from how many enqueues it has made; but when the application
 * calls write or sendfile the OS already knows how many bytes the call will send, and a web
 * server sends a whole response, or its whole body, in one call. Bn uses that figure: at each
 * enqueue it sees the bytes the call had still to enqueue (this enqueue's included), and the
 * first enqueue at which they reach n * 1024 is the connection's moment. A connection whose
 * responses are all shorter stays where it is and is asked again at each enqueue; a persistent
 * connection can thus be offered at its first large response. The selector's considered-once
 * rule still holds: after that moment, offered or not, the policy is not asked again.
 */
#include "policy_plugin.h"

static enum ho_sel_answer bytes_enqueued(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                         union ho_sel_area *mine, const struct ho_sel_enqueue *e)
{
    (void)c;
    (void)mine;
    uint64_t enough = (uint64_t)v->policy->threshold * 1024;
    return e->left >= enough ? HO_SEL_ANSWER_OFFER : HO_SEL_ANSWER_KEEP;
}

/* Its transfer has ended: when slots are running short, the slot is for the next large one. */
static enum ho_sel_answer bytes_drained(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                        union ho_sel_area *mine)
{
    (void)c;
    (void)mine;
    return (uint64_t)v->on_nic * 4 >= (uint64_t)v->soft_limit * 3 ? HO_SEL_ANSWER_GIVE_BACK
                                                                  : HO_SEL_ANSWER_KEEP;
}

const struct ho_sel_plugin ho_sel_bytes = {
    .name = "B",
    .takes_n = true,
    .enqueued = bytes_enqueued,
    .drained = bytes_drained,
    .reoffer = true,
};
