/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: the operators' command-line tool.  It reads and writes the
 * same Redis keys as the module (see DESIGN.md, "Redis"), with blocking
 * hiredis calls, and reuses the module's pure core for purpose names,
 * rule lines and JSON escaping so that both agree on what is valid.
 */

#ifndef _CONSENTCTL_H_INCLUDED_
#define _CONSENTCTL_H_INCLUDED_


#include <stddef.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "consent_core.h"
#include "rules.h"
#include "record.h"


#define CONSENTCTL_VERSION          "1.0.0"

/* exit codes */
#define CTL_OK                      0
#define CTL_ERROR                   1
#define CTL_USAGE                   2

#define CTL_DEFAULT_HOST            "127.0.0.1"
#define CTL_DEFAULT_PORT            6379
#define CTL_DEFAULT_PREFIX          "consent:"
#define CTL_DEFAULT_TIMEOUT         2000
/* the shipped rules, in the order nginx loads them (README) */
#define CTL_DEFAULT_RULES_DIR       "/etc/nginx/consent/"
#define CTL_DEFAULT_RULES_LIST                                              \
    CTL_DEFAULT_RULES_DIR "{ocd,default,japan,keep}.rules"

/* --rules FILE, given up to this many times; a file's size at most */
#define CTL_RULES_FILES             16
#define CTL_RULES_FILE_MAX          (64 * 1024 * 1024)

/* entries asked for at once when walking the stream or the keyspace */
#define CTL_BATCH                   1000

/* a number as a string literal: CTL_STR(CTL_BATCH) is "1000" */
#define CTL_STR_(n)                 #n
#define CTL_STR(n)                  CTL_STR_(n)

/* how often a WATCHed transaction is tried before giving up */
#define CTL_WATCH_TRIES             10

/* --sentinel: Sentinels at most, the port of one given without it */
#define CTL_SENTINELS               16
#define CTL_SENTINEL_PORT           26379
/* a host (ours, a Sentinel's, one a Sentinel names) at most, with NUL */
#define CTL_HOST_SIZE               256
/* --master NAME at most */
#define CTL_MASTER_MAX              255


/* a Sentinel's address */
typedef struct {
    char                       host[CTL_HOST_SIZE];
    int                        port;
} ctl_host_t;


typedef struct {
    redisContext              *redis;

    const char                *host;
    int                        port;
    const char                *socket;
    long                       db;
    const char                *password_file;
    const char                *prefix;
    size_t                     prefix_len;
    long                       timeout;          /* ms */

    /*
     * --sentinel: the Sentinels asked for the primary of master, with
     * the password file of --sentinel-password-file; sentinels_env when
     * they are CONSENTCTL_SENTINEL's
     */
    ctl_host_t                 sentinels[CTL_SENTINELS];
    int                        nsentinels;
    unsigned                   sentinels_env:1;
    /* the address is CONSENTCTL_REDIS's */
    unsigned                   redis_env:1;
    const char                *master;
    const char                *sentinel_password_file;

    /* the host CONSENTCTL_REDIS names, or the one a Sentinel gave */
    char                       host_buf[CTL_HOST_SIZE];

    /*
     * "127.0.0.1:6379" or "unix:/path", for messages; while a Sentinel's
     * answer is checked, "127.0.0.1:6380 (master "NAME" from sentinel
     * 127.0.0.1:26379)"
     */
    char                       addr[CTL_HOST_SIZE * 2 + CTL_MASTER_MAX
                                    + 64];

    consent_purposes_t         purposes;
} ctl_t;


/* one command of a pipeline or a transaction */
typedef struct {
    int                        argc;
    const char               **argv;
    const size_t              *argvlen;
} ctl_cmd_t;


/* a command of the command line ("subject"), or one of its own ("get") */
typedef struct {
    const char                *name;
    int                      (*run)(ctl_t *ctl, int argc, char **argv);
} ctl_handler_t;


/*
 * Called for each entry of a stream walk: id and fields (an array of an
 * even number of strings) are valid until the batch ends.  Returns 0 to go
 * on, -1 to stop with an error already reported.
 */
typedef int (*ctl_entry_pt)(ctl_t *ctl, const redisReply *id,
    const redisReply *fields, void *data);
/* after each batch, while its entries are still valid; 0 or -1 */
typedef int (*ctl_batch_pt)(ctl_t *ctl, void *data);
/* a SCAN reply's keys, all strings */
typedef int (*ctl_keys_pt)(ctl_t *ctl, const redisReply *keys, void *data);


/*
 * A write to one subject (set, erase): its record, the receipts stream
 * and the invalidation channel, with the argv of the receipt and of the
 * invalidation, which every such write sends (record.h lays them out).
 */
typedef struct {
    char                      *key;
    char                      *log;
    char                      *inval;
    size_t                     key_len;
    size_t                     log_len;
    size_t                     inval_len;

    consent_write_t            write;
    unsigned char              scratch[CONSENT_XADD_SCRATCH];
    int                        xadd_argc;
    const char                *xadd[CONSENT_XADD_ARGS];
    size_t                     xadd_len[CONSENT_XADD_ARGS];
    int                        pub_argc;
    const char                *pub[CONSENT_PUBLISH_ARGS];
    size_t                     pub_len[CONSENT_PUBLISH_ARGS];
} ctl_subject_write_t;


/*
 * An option of a command: a flag, one that takes a value, or one that may
 * be given up to max times (value then is an array of max, *count the
 * number given).
 */
typedef struct {
    const char                *name;             /* "--keep-receipts" */
    const char               **value;            /* NULL: a flag */
    int                       *flag;
    int                       *count;
    int                        max;
} ctl_opt_t;


/* consentctl.c */
int ctl_run(ctl_t *ctl, const char *what, const char *ask,
    const ctl_handler_t *handlers, int argc, char **argv);
int ctl_args(const char *cmd, int argc, char **argv, const ctl_opt_t *opts,
    char **pos, int npos);
void ctl_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int ctl_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int ctl_arg_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int ctl_subject_args(const char *cmd, int argc, char **argv,
    const ctl_opt_t *opts, char **pos, int npos);
int ctl_parse_long(const char *s, long min, long max, long *out);
int ctl_parse_host_port(const char *value, size_t len, char *host,
    size_t size, int *port);
void ctl_host_format(const char *host, int port, char *buf, size_t size);

/* consentctl_file.c */
/*
 * A whole file, malloc()ed, at most max bytes; NULL after a message
 * naming it as what ("rules file"), with hint after the reason.
 */
char *ctl_read_file(const char *path, const char *what, size_t max,
    const char *hint, size_t *len);
/*
 * A consent_alloc_t of malloc()ed blocks freed all at once: data points
 * to a ctl_block_t * that starts NULL.
 */
typedef struct ctl_block_s  ctl_block_t;

struct ctl_block_s {
    ctl_block_t               *next;
    long double                align;
};

void *ctl_arena_alloc(void *data, size_t size);
void ctl_arena_free(ctl_block_t *blocks);
/* with no --rules, the shipped files that are installed */
void ctl_rules_files_default(const char **files, int *nfiles);
/* a rules file, with a hint when it is a shipped one that is missing */
char *ctl_read_rules_file(const char *path, size_t *len);

/* consentctl_redis.c */
/* Redis at the address of the options, or the primary a Sentinel names */
int ctl_connect(ctl_t *ctl);
/* Redis at ctl->host/port or ctl->socket: connect, AUTH, SELECT */
int ctl_connect_node(ctl_t *ctl);
/*
 * AUTH on c with the "password" or "user password" of file; messages
 * name the server as kind ("redis at ", "sentinel ") and addr
 */
int ctl_auth(ctl_t *ctl, redisContext *c, const char *file,
    const char *kind, const char *addr);
/* a command on c got no reply: why, after kind and addr */
void ctl_io_report(ctl_t *ctl, redisContext *c, const char *kind,
    const char *addr);
void ctl_disconnect(ctl_t *ctl);
char *ctl_key(ctl_t *ctl, unsigned kind, const char *id, size_t *len);
redisReply *ctl_command(ctl_t *ctl, int argc, const char **argv,
    const size_t *argvlen);
redisReply *ctl_key_command(ctl_t *ctl, const char *cmd, const char *arg,
    size_t len, const char *arg2);
int ctl_reply_error(ctl_t *ctl, const redisReply *r, const char *what);
int ctl_pipeline_send(ctl_t *ctl, int n, const ctl_cmd_t *cmds);
redisReply *ctl_pipeline_reply(ctl_t *ctl);
redisReply *ctl_transaction(ctl_t *ctl, int n, const ctl_cmd_t *cmds,
    int *aborted);
int ctl_key_type(ctl_t *ctl, const char *key, size_t len, const char *want);
int ctl_scan_subjects(ctl_t *ctl, ctl_keys_pt batch, void *data);
int ctl_stream_walk(ctl_t *ctl, const char *key, size_t len,
    ctl_entry_pt entry, ctl_batch_pt batch, void *data);
void ctl_xrange_argv(const char *cmd, const char *key, size_t len,
    const char *from, const char *to, const char *count, const char **argv,
    size_t *argvlen);
int ctl_stream_entry(const redisReply *e);
const char *ctl_id_ms(const redisReply *id, unsigned long long *ms);
int ctl_reply_uint(const redisReply *r, unsigned long long max,
    unsigned long long *out);
int ctl_str_uint(const char *p, size_t len, unsigned long long max,
    unsigned long long *out);
int ctl_reply_cmp(const void *a, const void *b);

/* consentctl_json.c */
void ctl_json_str(const void *p, size_t len);
void ctl_json_cstr(const char *s);
void ctl_print_plain(const void *p, size_t len);
size_t ctl_plain_len(const void *p, size_t len);
const char *ctl_plain_buf(const void *p, size_t len, char *buf,
    size_t size);
int ctl_purpose_next(const char **pos, const char *end, const char **name,
    size_t *len);

/* consentctl_subject.c */
int ctl_subject(ctl_t *ctl, int argc, char **argv);
redisReply *ctl_record_fetch(ctl_t *ctl, const char *id,
    consent_record_t *rec);
int ctl_print_record(ctl_t *ctl, const char *id, const consent_record_t *rec);
void ctl_print_vendors(const consent_span_t *vr);
int ctl_watch(ctl_t *ctl, const char *key, size_t len);
long ctl_record_version(ctl_t *ctl, const char *key, size_t len);
int ctl_subject_write_init(ctl_t *ctl, const char *id,
    ctl_subject_write_t *w);
void ctl_subject_write_receipt(ctl_subject_write_t *w, const char *id,
    const char *action, const char *purposes, const char *vendors,
    long version, time_t now);
redisReply *ctl_subject_write_exec(ctl_t *ctl, ctl_subject_write_t *w,
    const ctl_cmd_t *record, int receipt, int *aborted);
void ctl_subject_write_free(ctl_subject_write_t *w);

/* consentctl_receipts.c */
int ctl_subject_erase(ctl_t *ctl, int argc, char **argv);
int ctl_receipts(ctl_t *ctl, int argc, char **argv);
/* a subject's receipts, a JSON line each, or one JSON array */
int ctl_receipts_print(ctl_t *ctl, const char *id, int array);

/* consentctl_export.c */
int ctl_subject_export(ctl_t *ctl, int argc, char **argv);
/* consentctl_rules.c */
int ctl_rules(ctl_t *ctl, int argc, char **argv);
redisReply *ctl_disabled_vendors(ctl_t *ctl, const char *key, size_t len);

/* consentctl_stats.c */
int ctl_stats(ctl_t *ctl, int argc, char **argv);

/* consentctl_records.c */
int ctl_records(ctl_t *ctl, int argc, char **argv);

/* consentctl_keys.c */
int ctl_keys(ctl_t *ctl, int argc, char **argv);

/* consentctl_sentinel.c */
/* "h:p[,h:p...]" of what ("--sentinel") added to ctl->sentinels */
int ctl_sentinel_list(ctl_t *ctl, const char *value, const char *what);
/* connected to the primary the first Sentinel that knows one names */
int ctl_sentinel_connect(ctl_t *ctl);


#endif /* _CONSENTCTL_H_INCLUDED_ */
