/*
 * gen_corpus_cmd.c - writes the seed corpus of fuzz_cmd.c: one valid encoding of every command
 * message type, one file each, built with the codec's own encoder.
 *
 *   cc -Iinclude fuzz/gen_corpus_cmd.c src/policy/?*.c src/util/?*.c -o gen_corpus_cmd
 *   ./gen_corpus_cmd fuzz/corpus/cmd
 *
 * (src/policy/?*.c is every .c file of src/policy.) HANDOFF and RESTORE carry a short state
 * blob and ACKED three entries, so that the variable parts are present from the start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cmd.h"

static const uint8_t blob[] = "opaque TCP engine state";

/* A valid message of the given type, its fields set to distinct values. */
static struct ho_cmd sample(int type)
{
    struct ho_cmd c;
    memset(&c, 0, sizeof c);
    c.type = (uint8_t)type;
    c.seq = 1000 + (uint32_t)type;
    switch (type) {
    case HO_CMD_HANDOFF:
        c.handoff.conn_id = 7;
        c.handoff.tuple = (struct tcpe_tuple){0x0a000002, 0x0a000001, 80, 40000};
        c.handoff.sockbuf = (struct ho_cmd_sockbuf){1448, 2896, 65536};
        c.handoff.state = (struct ho_cmd_blob){sizeof blob, blob};
        break;
    case HO_CMD_HANDOFF_REPLY:
        c.handoff_reply.conn_id = 7;
        c.handoff_reply.req_seq = 1001;
        c.handoff_reply.status = HO_CMD_ACCEPTED;
        c.handoff_reply.soft_limit = 256;
        break;
    case HO_CMD_RESTORE_REQUEST:
        c.restore_request.conn_id = 7;
        c.restore_request.reason = HO_CMD_RREQ_ROUTE;
        break;
    case HO_CMD_RESTORE:
        c.restore.conn_id = 7;
        c.restore.reason = HO_CMD_RESTORE_OVERLOAD;
        c.restore.sockbuf = (struct ho_cmd_sockbuf){0, 1448, 32768};
        c.restore.state = (struct ho_cmd_blob){sizeof blob, blob};
        break;
    case HO_CMD_SOFT_LIMIT:
        c.soft_limit.soft_limit = 240;
        c.soft_limit.hard_limit = 4096;
        c.soft_limit.cnum = 250;
        c.soft_limit.lc_state = HO_CMD_LC_DECREASE;
        break;
    case HO_CMD_SEND:
        c.send = (struct ho_cmd_data){7, 1448, 0x7f0000001000ull, HO_CMD_SEND_PUSH};
        break;
    case HO_CMD_RECV:
        c.recv = (struct ho_cmd_data){7, 0, 0x7f0000002000ull, HO_CMD_RECV_FIN};
        break;
    case HO_CMD_RCVD:
        c.rcvd.conn_id = 7;
        c.rcvd.len = 512;
        break;
    case HO_CMD_CLOSE:
        c.close.conn_id = 7;
        c.close.how = HO_CMD_CLOSE_CLOSE;
        break;
    case HO_CMD_CLOSED:
        c.closed.conn_id = 7;
        c.closed.how = HO_CMD_CLOSED_RESET;
        break;
    case HO_CMD_ACKED:
        c.acked.count = 3;
        c.acked.entries[0] = (struct ho_cmd_ack_entry){7, 1448};
        c.acked.entries[1] = (struct ho_cmd_ack_entry){9, 2896};
        c.acked.entries[2] = (struct ho_cmd_ack_entry){3, 1};
        break;
    case HO_CMD_FW_UP:
        c.fw_up.boot = 2;
        c.fw_up.hard_limit = 4096;
        c.fw_up.soft_limit = 4096;
        break;
    case HO_CMD_INIT:
        c.init.boot = 2;
        break;
    default:
        break;
    }
    return c;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_cmd DIR\n");
        return 2;
    }
    int err = 0;
    for (int type = 1; type <= HO_CMD_TYPE_LAST; type++) {
        struct ho_cmd c = sample(type);
        uint8_t buf[256];
        int n = ho_cmd_encode(&c, buf, sizeof buf);
        char path[512];
        int at = snprintf(path, sizeof path, "%s/", argv[1]);
        for (const char *s = ho_cmd_type_name(type); *s && at < (int)sizeof path - 1; s++) {
            path[at++] =
                (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s); /* file names in lower case */
        }
        path[at] = '\0';
        FILE *f = fopen(path, "wb");
        if (n < 0 || !f || fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "gen_corpus_cmd: cannot write %s (%d)\n", path, n);
            err = 1;
        }
        if (f && fclose(f) != 0) {
            err = 1;
        }
    }
    return err;
}
