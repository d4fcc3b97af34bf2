/*
 * cmd.h - the handoff command protocol: the messages the host's device driver and the NIC
 * firmware exchange over the ring that stands for the PCI bus (paper sections 2 and 3).
 *
 * The driver hands established connections off to the NIC (HANDOFF, answered by HANDOFF_REPLY),
 * asks for them back (RESTORE_REQUEST) and forwards the socket operations of the bypass protocol
 * (SEND, RCVD, CLOSE). The NIC answers with connections coming back (RESTORE), data placed in
 * the host's receive socket buffers (RECV), acknowledged data the host may drop (ACKED, several
 * ACKs of one or many connections in one message), ended connections (CLOSED) and its load
 * control's Soft limit (SOFT_LIMIT). Socket buffers stay in host memory, so no message carries
 * payload: SEND and RECV carry a length and a host buffer reference for DMA.
 *
 * The wire format (docs/command-protocol.md has the byte-level layout) is explicit, versioned
 * and big-endian, written and read field by field through bytes.h. Every message is a 12-byte
 * header (version, type, flags, total length, sequence number) and a body. The encoding is
 * canonical: a message has exactly one encoding, so decoding and re-encoding gives the same
 * bytes, and everything the decoder refuses the encoder refuses too.
 *
 * A decoded message is a tagged union, struct ho_cmd, free of pointers except one: the state
 * blob of HANDOFF and RESTORE (the TCP engine's own versioned export of the connection) is
 * borrowed from the decoded buffer, not copied.
 */
#ifndef HANDOFF_CMD_H
#define HANDOFF_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/tcpe_seg.h"

#define HO_CMD_VERSION  1  /* the only version this build speaks */
#define HO_CMD_HDR_SIZE 12 /* bytes of the common header */
#define HO_CMD_BLOB_MAX                                                                            \
    (1u << 20)              /* largest state blob, in bytes: on real payload a blob                \
                                carries the socket buffers' bytes too */
#define HO_CMD_ACKED_MAX 64 /* most (connection, bytes) entries in one ACKED */
/* The longest message: a HANDOFF with the largest blob. */
#define HO_CMD_MAX_SIZE (HO_CMD_HDR_SIZE + 32 + HO_CMD_BLOB_MAX)

/* Message types; the values are the wire's type byte and never change. */
enum ho_cmd_type {
    HO_CMD_HANDOFF = 1,         /* driver -> NIC: take this connection */
    HO_CMD_HANDOFF_REPLY = 2,   /* NIC -> driver: accepted or refused, and the Soft limit */
    HO_CMD_RESTORE_REQUEST = 3, /* driver -> NIC: give this connection back */
    HO_CMD_RESTORE = 4,         /* NIC -> driver: a connection comes back, with its state */
    HO_CMD_SOFT_LIMIT = 5,      /* NIC -> driver: load control moved the Soft limit */
    HO_CMD_SEND = 6,            /* driver -> NIC: bytes appended to the send socket buffer */
    HO_CMD_RECV = 7,            /* NIC -> driver: bytes placed in the receive socket buffer */
    HO_CMD_RCVD = 8,            /* driver -> NIC: the application consumed received bytes */
    HO_CMD_CLOSE = 9,           /* driver -> NIC: shut down, close or abort */
    HO_CMD_CLOSED = 10,         /* NIC -> driver: the connection is gone from the NIC */
    HO_CMD_ACKED = 11,          /* NIC -> driver: newly acknowledged bytes, aggregated */
    HO_CMD_FW_UP = 12,          /* NIC -> driver: the firmware restarted, its memory empty */
    HO_CMD_INIT = 13,           /* driver -> NIC: the driver has taken note; commands resume */
    HO_CMD_TYPE_LAST = HO_CMD_INIT
};

/* Which way a message type travels. */
enum ho_cmd_dir {
    HO_CMD_TO_NIC = 1,  /* sent by the host's driver */
    HO_CMD_TO_HOST = 2, /* sent by the NIC firmware */
};

/* HANDOFF_REPLY status. */
enum ho_cmd_status {
    HO_CMD_ACCEPTED = 0,            /* the NIC now owns the connection */
    HO_CMD_REFUSED_SOFT_LIMIT = 1,  /* Cnum has reached the Soft limit */
    HO_CMD_REFUSED_HARD_LIMIT = 2,  /* Cnum has reached the Hard limit */
    HO_CMD_REFUSED_NOMEM = 3,       /* the NIC could not allocate the connection's state */
    HO_CMD_REFUSED_BAD_VERSION = 4, /* the state blob's codec version is not spoken */
    HO_CMD_REFUSED_BAD_STATE = 5,   /* the blob is malformed, or the connection (id or
                                       4-tuple) cannot be taken in its state */
    HO_CMD_STATUS_COUNT
};

/* RESTORE_REQUEST reason: why the OS reclaims a connection. */
enum ho_cmd_rreq_reason {
    HO_CMD_RREQ_RECLAIM = 0, /* the host wants it back (policy, or an operation the NIC lacks) */
    HO_CMD_RREQ_ROUTE = 1,   /* its route or interface changed */
    HO_CMD_RREQ_DETACH = 2,  /* the driver is detaching or resetting the NIC */
    HO_CMD_RREQ_COUNT
};

/* RESTORE reason: why the NIC gives a connection back. */
enum ho_cmd_restore_reason {
    HO_CMD_RESTORE_REQUESTED = 0, /* answers a RESTORE_REQUEST */
    HO_CMD_RESTORE_OVERLOAD = 1,  /* load control restores actively (section 3.2) */
    HO_CMD_RESTORE_ERROR = 2,     /* the NIC cannot go on serving it (resource or fault) */
    HO_CMD_RESTORE_COUNT
};

/* SOFT_LIMIT load-control state; the same values as enum ho_lc_state in loadctl.h. */
enum ho_cmd_lc_state {
    HO_CMD_LC_MONITOR = 0,
    HO_CMD_LC_DECREASE = 1,
    HO_CMD_LC_INCREASE = 2,
    HO_CMD_LC_COUNT
};

/* SEND flags; every other bit is reserved and must be zero. */
enum {
    HO_CMD_SEND_PUSH = 0x01, /* the application wants the bytes sent now (PSH) */
};

/* RECV flags; every other bit is reserved and must be zero. */
enum {
    HO_CMD_RECV_FIN = 0x01, /* the peer's FIN follows the bytes: end of stream */
};

/* CLOSE: what the application asked for. */
enum ho_cmd_close_how {
    HO_CMD_CLOSE_SHUT_WR = 0, /* shutdown(SHUT_WR): send FIN after the queued data */
    HO_CMD_CLOSE_CLOSE = 1,   /* close(): FIN, and the socket is gone from the application */
    HO_CMD_CLOSE_ABORT = 2,   /* abort (SO_LINGER 0): send RST, drop everything */
    HO_CMD_CLOSE_COUNT
};

/* CLOSED: how the connection ended on the NIC. */
enum ho_cmd_closed_how {
    HO_CMD_CLOSED_NORMAL = 0,  /* both FINs exchanged and acknowledged */
    HO_CMD_CLOSED_RESET = 1,   /* reset by the peer */
    HO_CMD_CLOSED_TIMEOUT = 2, /* retransmission or keep-alive limit reached */
    HO_CMD_CLOSED_ABORTED = 3, /* aborted, at the host's request or by the NIC */
    HO_CMD_CLOSED_COUNT
};

/* The host socket-buffer facts that travel with a connection's state. */
struct ho_cmd_sockbuf {
    uint32_t snd_unacked; /* bytes in the host send socket buffer sent but not acknowledged */
    uint32_t snd_unsent;  /* bytes in the host send socket buffer not yet sent */
    uint32_t rcv_space;   /* free bytes in the host receive socket buffer */
};

/*
 * A state blob: the TCP engine's export of a connection, opaque to this protocol.
 * In a decoded message, data points into the decoded buffer (NULL when len is 0) and is valid
 * only while that buffer lives unchanged. To encode, data must hold len bytes (may be NULL
 * only when len is 0).
 */
struct ho_cmd_blob {
    uint32_t len;        /* 0..HO_CMD_BLOB_MAX */
    const uint8_t *data; /* borrowed, never owned */
};

struct ho_cmd_handoff {
    uint32_t conn_id;              /* the host's handle for the connection */
    struct tcpe_tuple tuple;       /* its 4-tuple, from the host's side */
    struct ho_cmd_sockbuf sockbuf; /* the host's socket buffers at the time of handoff */
    struct ho_cmd_blob state;      /* exported TCP state */
};

struct ho_cmd_handoff_reply {
    uint32_t conn_id;    /* as in the HANDOFF */
    uint32_t req_seq;    /* header sequence number of the HANDOFF answered */
    uint8_t status;      /* enum ho_cmd_status */
    uint32_t soft_limit; /* the NIC's Soft limit now */
};

struct ho_cmd_restore_request {
    uint32_t conn_id;
    uint8_t reason; /* enum ho_cmd_rreq_reason */
};

struct ho_cmd_restore {
    uint32_t conn_id;
    uint8_t reason;                /* enum ho_cmd_restore_reason */
    struct ho_cmd_sockbuf sockbuf; /* the host's socket buffers as the NIC saw them */
    struct ho_cmd_blob state;      /* exported TCP state */
};

struct ho_cmd_soft_limit {
    uint32_t soft_limit; /* <= hard_limit */
    uint32_t hard_limit;
    uint32_t cnum;    /* connections on the NIC; <= hard_limit */
    uint8_t lc_state; /* enum ho_cmd_lc_state after the change */
};

/* SEND and RECV: a run of bytes in a host socket buffer. */
struct ho_cmd_data {
    uint32_t conn_id;
    uint32_t len;  /* bytes; SEND: >= 1; RECV: >= 1 unless HO_CMD_RECV_FIN is set */
    uint64_t addr; /* host buffer reference (a DMA address, or a simulator's handle) */
    uint8_t flags; /* HO_CMD_SEND_* or HO_CMD_RECV_* */
};

struct ho_cmd_rcvd {
    uint32_t conn_id;
    uint32_t len; /* bytes the application consumed; >= 1 */
};

/* CLOSE and CLOSED. */
struct ho_cmd_close {
    uint32_t conn_id;
    uint8_t how; /* enum ho_cmd_close_how or enum ho_cmd_closed_how */
};

struct ho_cmd_ack_entry {
    uint32_t conn_id;
    uint32_t bytes; /* newly acknowledged; >= 1 */
};

struct ho_cmd_acked {
    uint16_t count; /* 1..HO_CMD_ACKED_MAX entries, each connection at most once */
    struct ho_cmd_ack_entry entries[HO_CMD_ACKED_MAX];
};

/*
 * FW_UP: the firmware started again after a reset (it crashed, or the driver reset it): every
 * connection it held is gone, its queues are empty and load control is back in its initial
 * state. It is the first message of the new boot (sequence number 0), as the Tigon's firmware
 * announces itself with its TI_EV_FIRMWARE_UP event; the firmware that the driver loaded at
 * attach time sends none. Until an INIT naming this boot arrives, the firmware drops every
 * command (they were meant for the boot before).
 */
struct ho_cmd_fw_up {
    uint32_t boot;       /* starts of the firmware since the driver loaded it, >= 1 */
    uint32_t hard_limit; /* connections it can hold */
    uint32_t soft_limit; /* load control's Soft limit now; <= hard_limit */
};

/* INIT: the driver has heard FW_UP and recovered what the NIC held; commands follow, numbered
 * from this one (sequence number 0). */
struct ho_cmd_init {
    uint32_t boot; /* the FW_UP answered */
};

/* A message, decoded or to be encoded. type selects the union member. */
struct ho_cmd {
    uint8_t type; /* enum ho_cmd_type */
    uint32_t seq; /* sender's sequence number: +1 per message, per direction, wrapping */
    union {
        struct ho_cmd_handoff handoff;
        struct ho_cmd_handoff_reply handoff_reply;
        struct ho_cmd_restore_request restore_request;
        struct ho_cmd_restore restore;
        struct ho_cmd_soft_limit soft_limit;
        struct ho_cmd_data send;
        struct ho_cmd_data recv;
        struct ho_cmd_rcvd rcvd;
        struct ho_cmd_close close;
        struct ho_cmd_close closed;
        struct ho_cmd_acked acked;
        struct ho_cmd_fw_up fw_up;
        struct ho_cmd_init init;
    };
};

/*
 * Returns the encoded size of cmd in bytes (HO_CMD_HDR_SIZE..HO_CMD_MAX_SIZE), or HO_EINVAL if
 * cmd is NULL or not encodable: unknown type, a field out of range (an enum, a reserved flag
 * bit, a zero length where one is required, a blob over HO_CMD_BLOB_MAX or with NULL data, an
 * ACKED count out of range or naming a connection twice).
 */
int ho_cmd_size(const struct ho_cmd *cmd);

/*
 * Encodes cmd into buf[0..cap). Returns the number of bytes written, HO_EINVAL as
 * ho_cmd_size() does (or for buf NULL), or HO_EMSGSIZE if the encoding is longer than cap.
 * Nothing is written on failure.
 */
int ho_cmd_encode(const struct ho_cmd *cmd, uint8_t *buf, size_t cap);

/*
 * Decodes exactly one message from buf[0..len) into *out. Checks, in this order:
 *   HO_EVERSION  the first byte is not HO_CMD_VERSION;
 *   HO_EMSGSIZE  len is shorter than the header;
 *   HO_EPROTO    the type is unknown, or a header flag bit is set;
 *   HO_EMSGSIZE  the header's length differs from len (truncated, or trailing bytes), or the
 *                body's size is wrong for the type (a fixed-size body of another size, a
 *                variable body shorter than its fixed part);
 *   HO_EPROTO    a field is out of range (as for ho_cmd_size()), a blob length exceeds
 *                HO_CMD_BLOB_MAX or differs from the bytes that follow it, an ACKED count
 *                disagrees with the bytes that follow it.
 * Returns HO_OK, one of the above, or HO_EINVAL if out is NULL or buf is NULL with len > 0.
 * On failure *out is unspecified. On success the header and the type's own member are set (the
 * other members, and ACKED entries past its count, are left as they were); a blob's data points
 * into buf (see struct ho_cmd_blob): out must not outlive buf.
 */
int ho_cmd_decode(const uint8_t *buf, size_t len, struct ho_cmd *out);

/* "HANDOFF", "HANDOFF_REPLY", ..., or "UNKNOWN" for any other value. */
const char *ho_cmd_type_name(int type);

/* HO_CMD_TO_NIC or HO_CMD_TO_HOST, or HO_EINVAL for an unknown type. */
int ho_cmd_type_dir(int type);

/* "accepted", "soft-limit", "hard-limit", "no-memory", "bad-version", "bad-state", or "?". */
const char *ho_cmd_status_name(int status);

/* "requested", "overload", "error", or "?". */
const char *ho_cmd_restore_reason_name(int reason);

/*
 * Writes a one-line description of cmd for traces into buf[0..cap) (NUL-terminated, truncated
 * if needed; buf may be NULL when cap is 0). Returns the length the full line needs, as
 * snprintf does, or HO_EINVAL if cmd is NULL.
 */
int ho_cmd_format(const struct ho_cmd *cmd, char *buf, size_t cap);

/*
 * Checks a received header sequence number against the one expected next from the same sender
 * (wraparound-safe). Returns the number of messages lost in between (0 when in order), or
 * HO_EPROTO if got is behind expected (a duplicate or a reordered message).
 */
int ho_cmd_seq_gap(uint32_t expected, uint32_t got);

#endif
