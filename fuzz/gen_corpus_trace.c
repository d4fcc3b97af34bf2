/*
 * gen_corpus_trace.c - writes the seed corpus of fuzz_trace.c: small valid traces of every
 * format, one file each, in the fuzzer's input format (four header bytes choosing the format
 * and the reader's parameters, see fuzz_trace.c, then the file's content). Each trace is
 * written once with its format given and once for auto-detection.
 *
 *   cc -Iinclude fuzz/gen_corpus_trace.c src/workload/?*.c src/util/?*.c -lm -o gen_corpus_trace
 *   ./gen_corpus_trace fuzz/corpus/trace
 *
 * (src/workload/?*.c is every .c file of src/workload.) The World Cup records are encoded with
 * the reader's own codec; the text traces follow the examples of tests/workload/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/workload_trace.h"

static int write_seed(const char *dir, const char *name, const uint8_t header[4],
                      const void *content, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(header, 1, 4, f) != 4 || (len && fwrite(content, 1, len, f) != len)) {
        fprintf(stderr, "gen_corpus_trace: cannot write %s\n", path);
        if (f) {
            fclose(f);
        }
        return 1;
    }
    return fclose(f) != 0;
}

/* 1998-05-01 00:00:00 GMT, where the World Cup logs start. */
#define WC_T0 893980800u

static struct ho_wc_record wc(uint32_t dt, uint32_t client, uint32_t object, uint32_t size,
                              unsigned status, uint8_t method)
{
    return (struct ho_wc_record){.timestamp = WC_T0 + dt,
                                 .client = client,
                                 .object = object,
                                 .size = size,
                                 .method = method,
                                 .status = (uint8_t)(2u << 6 | ho_wc_status_index(status)),
                                 .type = 1,
                                 .server = 0x21};
}

static const char clf_text[] =
    "a.example - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\r\n"
    "b.example - - [10/Oct/2000:22:55:36 +0200] \"GET /index.html HTTP/1.1\" 304 -\r\n"
    "\r\n"
    "a.example - frank [10/Oct/2000:13:55:51 -0700] \"HEAD /apache_pb.gif HTTP/1.0\" 200 0 "
    "\"http://ref.example/\" \"Mozilla/4.08 \\\"quoted\\\" [en]\"\n"
    "10.0.0.7 - - [10/Oct/2000:20:56:07 +0000] \"POST /cgi-bin/form HTTP/1.0\" 404 1234\n"
    "a.example - frank [10/Oct/2000:13:56:07 -0700] \"garbage request\" 400 12";

/* Out of order by 3 s: read with a backstep allowance. */
static const char clf_backstep[] =
    "h1 - - [01/May/1998:00:00:10 +0000] \"GET /a HTTP/1.0\" 200 10\n"
    "h2 - - [01/May/1998:00:00:07 +0000] \"GET /b HTTP/1.0\" 200 20\n"
    "h1 - - [01/May/1998:00:00:40 +0000] \"GET /a HTTP/1.0\" 200 10\n";

static const char wsess_text[] = "# two sessions, httperf style\n"
                                 "\n"
                                 "/foo.html think=2.0 size=1000\n"
                                 "\t/pict1.gif size=200\n"
                                 "    /pict2.gif size=300 status=304\n"
                                 "/foo2.html method=POST contents='Post data' size=10\n"
                                 "\t/pict3.gif size=5\n"
                                 "/last.html size=7 think=9\n"
                                 "\n"
                                 "\n"
                                 "# session 2: SPECweb99 names carry their size\n"
                                 "/file_set/dir00001/class1_3 method=GET\r\n"
                                 "/file_set/dir00001/class3_8 think=0.5\r\n"
                                 "/x method=HEAD\r\n"
                                 "/foo3.html method=POST contents=\"Multi\\nline \\\"q\\\"\" "
                                 "size=3\n";

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_trace DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    int err = 0;

    /* World Cup: two clients; client 1 comes back after 20 s (a second connection). */
    const struct ho_wc_record recs[] = {
        wc(0, 1, 100, 2326, 200, 0),
        wc(0, 2, 101, HO_WC_SIZE_NONE, 304, 0),
        wc(3, 1, 102, 512, 200, 0),
        wc(5, 2, 103, 0, 404, 1),
        wc(25, 1, 100, 2326, 206, 2),
        wc(25, 3, 104, 70000, 200, 8),
        wc(40, 3, 105, HO_WC_SIZE_NONE, 505, 0),
    };
    uint8_t bin[sizeof recs / sizeof recs[0] * HO_WC_RECORD_BYTES];
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        ho_wc_encode(&recs[i], bin + i * HO_WC_RECORD_BYTES);
    }
    /* The same records with two swapped (3 s back): needs max_backstep_s. */
    uint8_t back[sizeof bin];
    memcpy(back, bin, sizeof bin);
    memcpy(back + 2 * HO_WC_RECORD_BYTES, bin + 3 * HO_WC_RECORD_BYTES, HO_WC_RECORD_BYTES);
    memcpy(back + 3 * HO_WC_RECORD_BYTES, bin + 2 * HO_WC_RECORD_BYTES, HO_WC_RECORD_BYTES);

    /* header: format (0 auto), max_backstep_s, max_requests, idle_s | think << 5 */
    err |= write_seed(dir, "wc", (const uint8_t[]){1, 0, 0, 0}, bin, sizeof bin);
    err |= write_seed(dir, "wc_auto", (const uint8_t[]){0, 0, 0, 0}, bin, sizeof bin);
    err |= write_seed(dir, "wc_backstep", (const uint8_t[]){1, 5, 0, 0}, back, sizeof back);
    err |= write_seed(dir, "wc_prefix", (const uint8_t[]){1, 0, 4, 2}, bin, sizeof bin);
    err |= write_seed(dir, "clf", (const uint8_t[]){2, 0, 0, 0}, clf_text, sizeof clf_text - 1);
    err |=
        write_seed(dir, "clf_auto", (const uint8_t[]){0, 0, 0, 0}, clf_text, sizeof clf_text - 1);
    err |= write_seed(dir, "clf_backstep", (const uint8_t[]){2, 3, 0, 20}, clf_backstep,
                      sizeof clf_backstep - 1);
    err |= write_seed(dir, "wsess", (const uint8_t[]){3, 0, 0, 3 << 5}, wsess_text,
                      sizeof wsess_text - 1);
    err |= write_seed(dir, "wsess_auto", (const uint8_t[]){0, 0, 0, 0}, wsess_text,
                      sizeof wsess_text - 1);
    err |= write_seed(dir, "wsess_prefix", (const uint8_t[]){3, 0, 5, 1 << 5}, wsess_text,
                      sizeof wsess_text - 1);
    err |= write_seed(dir, "empty_wsess", (const uint8_t[]){3, 0, 0, 0}, "", 0);
    return err;
}
