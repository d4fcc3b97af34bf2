/*
 * sel_never.c - the selection policy NEVER: no connection of the port is handed off.
 *
 * The paper's "0 NIC connections", and a way to keep one port on the host while others are
 * offloaded. Each connection is passed when it is established, so the selector never asks
 * about it again.
 */
#include "policy_plugin.h"

static enum ho_sel_answer never_established(const struct ho_sel_view *v,
                                            const struct ho_sel_conn *c, union ho_sel_area *mine)
{
    (void)v;
    (void)c;
    (void)mine;
    return HO_SEL_ANSWER_PASS;
}

const struct ho_sel_plugin ho_sel_never = {
    .name = "NEVER",
    .established = never_established,
};
