/*
 * sel_fcfs.c - the selection policy FCFS, first come, first served (paper section 3.3).
 *
 * A connection's moment is its establishment: it is offered then if the Soft limit has room,
 * and otherwise stays on the host for good.
 */
#include "policy_plugin.h"

static enum ho_sel_answer fcfs_established(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                           union ho_sel_area *mine)
{
    (void)v;
    (void)c;
    (void)mine;
    return HO_SEL_ANSWER_OFFER;
}

const struct ho_sel_plugin ho_sel_fcfs = {
    .name = "FCFS",
    .established = fcfs_established,
};
