/*
 * gen_corpus_http.c - writes the seed corpus of fuzz_http.c, one file each: request heads the
 * parser accepts (every target form, line-end style and field it acts on), pipelined requests,
 * one request for each kind of refusal, and HTTP-dates in their three formats.
 *
 *   cc -Iinclude fuzz/gen_corpus_http.c src/app/http.c -o gen_corpus_http
 *   ./gen_corpus_http fuzz/corpus/http
 *
 * Each request seed says what the parser must make of it (a head of its whole length, or a
 * status) and is checked before it is written, so the corpus cannot drift from the parser
 * unnoticed: a seed that no longer parses as it says stops the generator.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/http.h"

struct seed {
    const char *name;
    const char *text;
    int status; /* 0: a valid head (for "pipelined", the first of two); else the refusal */
};

#define H "Host: www.example.com\r\n"

static const struct seed seeds[] = {
    {"get", "GET /index.html HTTP/1.1\r\n" H "\r\n", 0},
    {"head", "HEAD /img/logo.png HTTP/1.1\r\n" H "Accept: */*\r\n\r\n", 0},
    {"http10", "GET / HTTP/1.0\r\n\r\n", 0},
    {"http10_keep_alive", "GET /a.txt HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0},
    {"close", "GET /a HTTP/1.1\r\n" H "Connection: upgrade, close\r\n\r\n", 0},
    {"bare_lf", "GET /lf HTTP/1.1\n" H "\n", 0},
    {"leading_crlf", "\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", 0},
    {"absolute_form", "GET http://www.example.com:8080/a/b?q=1 HTTP/1.1\r\n" H "\r\n", 0},
    {"absolute_form_ipv6", "GET https://[2001:db8::1]/ HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", 0},
    {"percent", "GET /%7Euser/a%20b/./c//d.html?x=%41 HTTP/1.1\r\n" H "\r\n", 0},
    {"content_length", "GET /b HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\nhello", 0},
    {"ims_imf", "GET /f HTTP/1.1\r\n" H "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
     0},
    {"ims_rfc850",
     "GET /f HTTP/1.1\r\n" H "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n", 0},
    {"ims_asctime", "GET /f HTTP/1.1\r\n" H "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n\r\n",
     0},
    {"many_fields",
     "GET /page HTTP/1.1\r\n" H "User-Agent: seed/1.0\r\nAccept: text/html,*/*;q=0.8\r\n"
     "Accept-Language: en\r\nAccept-Encoding: gzip\r\nCookie: a=b; c=d\r\n"
     "X-Obs-Text: caf\xc3\xa9\r\nReferer: http://www.example.com/\r\n\r\n",
     0},
    {"pipelined", "GET /1 HTTP/1.1\r\n" H "\r\nGET /2 HTTP/1.1\r\n" H "Connection: close\r\n\r\n",
     0},
    {"pipelined_body",
     "GET /1 HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabcHEAD /2 HTTP/1.0\r\n\r\n", 0},
    {"bad_post", "POST /form HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc", 405},
    {"bad_options", "OPTIONS * HTTP/1.1\r\n" H "\r\n", 405},
    {"bad_method", "G@T / HTTP/1.1\r\n" H "\r\n", 400},
    {"bad_http2", "GET / HTTP/2.0\r\n" H "\r\n", 505},
    {"bad_version", "GET / HTTP/1.1x\r\n" H "\r\n", 400},
    {"bad_http09", "GET /\r\n", 400},
    {"bad_bare_cr", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
    {"bad_obs_fold", "GET / HTTP/1.1\r\n" H "X-A: 1\r\n 2\r\n\r\n", 400},
    {"bad_space_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
    {"bad_no_host", "GET / HTTP/1.1\r\n\r\n", 400},
    {"bad_two_hosts", "GET / HTTP/1.1\r\n" H H "\r\n", 400},
    {"bad_cl_differ", "GET / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
    {"bad_cl_huge", "GET / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", 400},
    {"bad_cl_max_body", "GET / HTTP/1.1\r\n" H "Content-Length: 2000000\r\n\r\n", 413},
    {"bad_te", "GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", 501},
    {"bad_te_cl", "GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
     400},
    {"bad_dotdot", "GET /a/%2e%2E/etc/passwd HTTP/1.1\r\n" H "\r\n", 400},
    {"bad_dotdot_slash", "GET /a/..%2fb HTTP/1.1\r\n" H "\r\n", 400},
    {"bad_pct", "GET /a%zz HTTP/1.1\r\n" H "\r\n", 400},
    {"bad_nul", "GET /a%00 HTTP/1.1\r\n" H "\r\n", 400},
    {"bad_authority_form", "GET www.example.com:80 HTTP/1.1\r\n" H "\r\n", 400},
    {"bad_asterisk", "GET * HTTP/1.1\r\n" H "\r\n", 400},
};

/* HTTP-dates, valid and not, for the date reader (and as odd requests). */
static const struct {
    const char *name, *text;
} dates[] = {
    {"date_imf", "Sun, 06 Nov 1994 08:49:37 GMT"},
    {"date_rfc850", "Sunday, 06-Nov-94 08:49:37 GMT"},
    {"date_asctime", "Sun Nov  6 08:49:37 1994"},
    {"date_leap_day", "Tue, 29 Feb 2000 00:00:00 GMT"},
    {"date_last", "Fri, 31 Dec 9999 23:59:59 GMT"},
    {"date_leap_second", "Wed, 31 Dec 2008 23:59:60 GMT"},
    {"date_bad_weekday", "Mon, 06 Nov 1994 08:49:37 GMT"},
};

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len) {
        fprintf(stderr, "gen_corpus_http: cannot write %s\n", path);
        if (f) {
            fclose(f);
        }
        return 1;
    }
    return fclose(f) != 0;
}

/* The seed parses as it says. */
static int check_seed(const struct seed *s)
{
    struct ho_http_limits lim;
    ho_http_limits_default(&lim);
    struct ho_http_req req;
    struct ho_http_error err;
    size_t len = strlen(s->text);
    int rc = ho_http_parse(s->text, len, &lim, &req, &err);
    bool ok = s->status == 0 ? rc > 0 : rc < 0 && rc != HO_EAGAIN && err.status == s->status;
    if (!ok) {
        fprintf(stderr, "gen_corpus_http: %s: rc %d status %d (%s), expected %d\n", s->name, rc,
                rc < 0 ? err.status : 0, rc < 0 && err.why ? err.why : "-", s->status);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_http DIR\n");
        return 2;
    }
    int err = 0;
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        err |= check_seed(&seeds[k]);
        err |= write_file(argv[1], seeds[k].name, seeds[k].text, strlen(seeds[k].text));
    }
    for (size_t k = 0; k < sizeof dates / sizeof dates[0]; k++) {
        err |= write_file(argv[1], dates[k].name, dates[k].text, strlen(dates[k].text));
    }
    return err;
}
