/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: options, the Redis address, and the commands' dispatch.
 * Each command checks its own arguments before it connects, so that a
 * mistyped command line says so (exit 2) whether Redis is up or not.
 */


#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "consentctl.h"
#include "id.h"


#define CTL_DONE                    -1   /* help or version: exit 0 */


static int ctl_init(ctl_t *ctl);
static int ctl_options(ctl_t *ctl, int argc, char **argv);
static int ctl_option(ctl_t *ctl, int c, const char *opt);
static int ctl_options_sentinel(ctl_t *ctl, int addr, int sentinel,
    int master);
static void ctl_address(ctl_t *ctl);
static int ctl_help(ctl_t *ctl, int argc, char **argv);
static void ctl_usage(FILE *f);
static void ctl_vmessage(const char *fmt, va_list args);
static const ctl_opt_t *ctl_opt_find(const ctl_opt_t *opts, const char *a,
    char **eq);
static int ctl_opt_set(const char *cmd, const ctl_opt_t *o, const char *eq,
    int argc, char **argv, int *i);
static int ctl_redis_env(ctl_t *ctl, const char *value);
static int ctl_host_port(ctl_t *ctl, const char *value, const char *what);
static int ctl_master_valid(const char *name);
static int ctl_extra_purposes(ctl_t *ctl, const char *list);


static const char  ctl_usage_text[] =
    "Usage: consentctl [options] command [arguments]\n"
    "\n"
    "Commands:\n"
    "  subject get ID                 the subject's record, as JSON\n"
    "  subject set ID PURPOSES [--policy-version N]\n"
    "              [--vendors-refused V1,V2]\n"
    "                                 record a decision (PURPOSES: a comma\n"
    "                                 list, or \"none\"), with a receipt\n"
    "  subject export ID [--rules FILE]\n"
    "                                 everything held on the subject, for\n"
    "                                 a disclosure request: record,\n"
    "                                 recipients and their countries,\n"
    "                                 provision log, receipts (one JSON)\n"
    "  subject erase ID [--keep-receipts]\n"
    "                                 delete the record, provision log\n"
    "                                 and receipts\n"
    "  receipts ID                    the subject's receipts, JSON lines\n"
    "  rules list [--rules FILE] [--details]\n"
    "                                 vendors of the rules file(s) and\n"
    "                                 whether Redis switched them off\n"
    "  rules enable VENDOR [--rules FILE] [--force]\n"
    "                                 switch a vendor's rules back on\n"
    "  rules disable VENDOR [--rules FILE] [--force]\n"
    "                                 switch a vendor's rules off\n"
    "  rules import-ocd FILE          the Open Cookie Database CSV as a\n"
    "                                 rules file, on stdout\n"
    "  stats                          counts of subjects, purposes, "
    "receipts\n"
    "  records report --older-than TIME\n"
    "                                 records whose last decision is older\n"
    "  records purge --older-than TIME\n"
    "                                 delete them (not their receipts)\n"
    "  keys generate [KID]            a new consent_keys line: KID (default\n"
    "                                 k and today's UTC date) and 32 random\n"
    "                                 bytes in base64\n"
    "\n"
    "An ID may start with '-' (the module's ids are base64url): only the\n"
    "command's own options above are options.  \"--\" ends the options,\n"
    "for an ID that is exactly an option's name: subject erase -- "
    "--keep-receipts\n"
    "\n"
    "VENDOR is matched without regard to case against the vendors of the\n"
    "rules files (--rules, again for more files; default\n"
    CTL_DEFAULT_RULES_LIST ", those that exist),\n"
    "and stored as they spell it; --details adds each vendor's metadata\n"
    "(\"@vendor\" lines).\n"
    "an unknown vendor is refused.  --force takes the name as given,\n"
    "without reading rules files (vendors of consent_rule in nginx.conf).\n"
    "\n"
    "Options:\n"
    "  -H, --host HOST                Redis host (default 127.0.0.1)\n"
    "  -p, --port PORT                Redis port (default 6379)\n"
    "  -s, --socket PATH              Redis unix socket\n"
    "      --sentinel HOST:PORT[,HOST:PORT...]\n"
    "                                 Redis Sentinels (again for more,\n"
    "                                 port default 26379), asked in turn\n"
    "                                 for the primary of --master; not with\n"
    "                                 --host, --port or --socket\n"
    "      --master NAME              the master name the Sentinels "
    "monitor\n"
    "      --sentinel-password-file FILE\n"
    "                                 the Sentinels' password, as for\n"
    "                                 --password-file\n"
    "  -n, --db N                     Redis database (default 0)\n"
    "  -a, --password-file FILE       \"password\" or \"user password\" "
    "on its\n"
    "                                 first line\n"
    "      --prefix PREFIX            key prefix (default \"consent:\")\n"
    "      --timeout MS               connect and command timeout "
    "(default 2000)\n"
    "      --purposes LIST            purposes added with consent_purpose\n"
    "  -h, --help                     this text\n"
    "      --version                  the version\n"
    "\n"
    "Options go before the command; CONSENTCTL_REDIS=host:port or\n"
    "unix:/path sets the default address, or CONSENTCTL_SENTINEL=\n"
    "host:port[,host:port...] and CONSENTCTL_MASTER=name the Sentinels.\n"
    "Exit status: 0 done, 1 runtime error (Redis, not found), "
    "2 bad usage.\n";


static const ctl_handler_t  ctl_commands[] = {
    { "subject",  ctl_subject },
    { "receipts", ctl_receipts },
    { "rules",    ctl_rules },
    { "stats",    ctl_stats },
    { "records",  ctl_records },
    { "keys",     ctl_keys },
    { "help",     ctl_help },
    { NULL,       NULL }
};


int
main(int argc, char **argv)
{
    int    rc;
    ctl_t  ctl;

    rc = ctl_init(&ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    rc = ctl_options(&ctl, argc, argv);
    if (rc != CTL_OK) {
        return rc == CTL_DONE ? CTL_OK : rc;
    }

    ctl_address(&ctl);

    rc = ctl_run(&ctl, "", "no command given", ctl_commands, argc - optind,
                 argv + optind);

    ctl_disconnect(&ctl);

    /* output that did not reach its reader is a failure, not success */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_error("writing the output: %s", strerror(errno));
        return CTL_ERROR;
    }

    return rc;
}


/* the defaults: the environment's address, the standard purposes */

static int
ctl_init(ctl_t *ctl)
{
    int          rc;
    const char  *env;

    memset(ctl, 0, sizeof(ctl_t));

    ctl->host = CTL_DEFAULT_HOST;
    ctl->port = CTL_DEFAULT_PORT;
    ctl->prefix = CTL_DEFAULT_PREFIX;
    ctl->timeout = CTL_DEFAULT_TIMEOUT;

    consent_purposes_init(&ctl->purposes);

    /*
     * The environment gives defaults; options given override them, and
     * an address on the command line (--host, --port, --socket or
     * --sentinel) both CONSENTCTL_REDIS and CONSENTCTL_SENTINEL.
     */
    env = getenv("CONSENTCTL_REDIS");

    if (env && *env) {
        rc = ctl_redis_env(ctl, env);
        if (rc != CTL_OK) {
            return rc;
        }

        ctl->redis_env = 1;
    }

    env = getenv("CONSENTCTL_SENTINEL");

    if (env && *env) {
        rc = ctl_sentinel_list(ctl, env, "CONSENTCTL_SENTINEL");
        if (rc != CTL_OK) {
            return rc;
        }

        ctl->sentinels_env = 1;
    }

    env = getenv("CONSENTCTL_MASTER");

    if (env && *env) {
        ctl->master = env;
    }

    return CTL_OK;
}


/*
 * The options before the command: CTL_OK with optind on the command,
 * CTL_DONE when help or the version was asked for, or CTL_USAGE.
 */

static int
ctl_options(ctl_t *ctl, int argc, char **argv)
{
    int  c, rc, tcp, sock, sentinel, master;

    static const struct option  longopts[] = {
        { "host",          required_argument, NULL, 'H' },
        { "port",          required_argument, NULL, 'p' },
        { "socket",        required_argument, NULL, 's' },
        { "db",            required_argument, NULL, 'n' },
        { "password-file", required_argument, NULL, 'a' },
        { "prefix",        required_argument, NULL, 'P' },
        { "timeout",       required_argument, NULL, 'T' },
        { "purposes",      required_argument, NULL, 'U' },
        { "sentinel",      required_argument, NULL, 'L' },
        { "master",        required_argument, NULL, 'M' },
        { "sentinel-password-file",
                           required_argument, NULL, 'W' },
        { "help",          no_argument,       NULL, 'h' },
        { "version",       no_argument,       NULL, 'V' },
        { NULL,            0,                 NULL, 0 }
    };

    tcp = 0;
    sock = 0;
    sentinel = 0;
    master = 0;
    opterr = 0;

    /* "+": options stop at the command, whose own options follow it */
    while ((c = getopt_long(argc, argv, "+:H:p:s:n:a:h", longopts, NULL))
           != -1)
    {
        rc = ctl_option(ctl, c, argv[optind - 1]);
        if (rc != CTL_OK) {
            return rc;
        }

        tcp |= (c == 'H' || c == 'p');
        sock |= (c == 's');
        sentinel |= (c == 'L');
        master |= (c == 'M');
    }

    if (tcp && sock) {
        return ctl_usage_error("give either --socket or --host/--port, "
                               "not both");
    }

    if (tcp) {
        ctl->socket = NULL;
    }

    return ctl_options_sentinel(ctl, tcp || sock, sentinel, master);
}


/*
 * The Sentinels, given (sentinel) or from CONSENTCTL_SENTINEL, with the
 * master name; addr: --host, --port or --socket given.  CTL_OK or
 * CTL_USAGE.
 */

static int
ctl_options_sentinel(ctl_t *ctl, int addr, int sentinel, int master)
{
    if (addr && sentinel) {
        return ctl_usage_error("give either --sentinel or "
                               "--host/--port/--socket, not both");
    }

    if (addr) {
        /* an address given: CONSENTCTL_SENTINEL gives way */
        ctl->nsentinels = 0;

    } else if (ctl->nsentinels && !sentinel && ctl->redis_env) {
        return ctl_usage_error("both CONSENTCTL_REDIS and "
                               "CONSENTCTL_SENTINEL are set: unset one, or "
                               "give an address");
    }

    if (ctl->nsentinels == 0) {
        if (master) {
            return ctl_usage_error("--master needs --sentinel");
        }

        if (ctl->sentinel_password_file) {
            return ctl_usage_error("--sentinel-password-file needs "
                                   "--sentinel");
        }

        return CTL_OK;
    }

    if (ctl->master == NULL) {
        return ctl_usage_error("--sentinel needs --master NAME (or "
                               "CONSENTCTL_MASTER)");
    }

    if (!ctl_master_valid(ctl->master)) {
        return ctl_arg_error("invalid master name \"%s\" (1 to %d bytes, "
                             "no spaces or control characters)",
                             ctl->master, CTL_MASTER_MAX);
    }

    return CTL_OK;
}


/* a name sentinel.conf can hold: printable, no spaces */

static int
ctl_master_valid(const char *name)
{
    size_t  i;

    for (i = 0; name[i]; i++) {
        if ((unsigned char) name[i] <= 0x20 || (unsigned char) name[i] == 0x7f
            || i == CTL_MASTER_MAX)
        {
            return 0;
        }
    }

    return i > 0;
}


/* one option c, its value in optarg; opt is the argument that gave it */

static int
ctl_option(ctl_t *ctl, int c, const char *opt)
{
    long  n;

    switch (c) {

    case 'H':
        if (*optarg == '\0') {
            return ctl_arg_error("empty --host");
        }

        ctl->host = optarg;
        return CTL_OK;

    case 'p':
        if (ctl_parse_long(optarg, 1, 65535, &n) != 0) {
            return ctl_arg_error("invalid --port \"%s\"", optarg);
        }

        ctl->port = (int) n;
        return CTL_OK;

    case 's':
        if (*optarg == '\0') {
            return ctl_arg_error("empty --socket");
        }

        ctl->socket = optarg;
        return CTL_OK;

    case 'n':
        if (ctl_parse_long(optarg, 0, 1000000, &ctl->db) != 0) {
            return ctl_arg_error("invalid --db \"%s\"", optarg);
        }

        return CTL_OK;

    case 'a':
        ctl->password_file = optarg;
        return CTL_OK;

    case 'P':
        ctl->prefix = optarg;
        return CTL_OK;

    case 'T':
        if (ctl_parse_long(optarg, 1, 3600000, &ctl->timeout) != 0) {
            return ctl_arg_error("invalid --timeout \"%s\" "
                                 "(milliseconds, 1 to 3600000)", optarg);
        }

        return CTL_OK;

    case 'U':
        return ctl_extra_purposes(ctl, optarg);

    case 'L':
        /* the first --sentinel replaces CONSENTCTL_SENTINEL's */
        if (ctl->sentinels_env) {
            ctl->sentinels_env = 0;
            ctl->nsentinels = 0;
        }

        return ctl_sentinel_list(ctl, optarg, "--sentinel");

    case 'M':
        ctl->master = optarg;
        return CTL_OK;

    case 'W':
        ctl->sentinel_password_file = optarg;
        return CTL_OK;

    case 'h':
        ctl_usage(stdout);
        return CTL_DONE;

    case 'V':
        printf("consentctl %s\n", CONSENTCTL_VERSION);
        return CTL_DONE;

    case ':':
        return ctl_usage_error("option \"%s\" needs a value", opt);

    default:
        return ctl_usage_error("unknown option \"%s\"", opt);
    }
}


/* the prefix's length, and the address as messages name it */

static void
ctl_address(ctl_t *ctl)
{
    ctl->prefix_len = strlen(ctl->prefix);

    if (ctl->socket) {
        snprintf(ctl->addr, sizeof(ctl->addr), "unix:%s", ctl->socket);

    } else {
        ctl_host_format(ctl->host, ctl->port, ctl->addr, sizeof(ctl->addr));
    }
}


/* "host:port", "[v6]:port" into buf, truncated to fit */

void
ctl_host_format(const char *host, int port, char *buf, size_t size)
{
    if (strchr(host, ':')) {
        snprintf(buf, size, "[%s]:%d", host, port);

    } else {
        snprintf(buf, size, "%s:%d", host, port);
    }
}


/*
 * The handler named by argv[0], given the arguments after it; what is
 * "rules" for the messages ("" for the command line itself), ask says
 * what is missing when argc is 0.
 */

int
ctl_run(ctl_t *ctl, const char *what, const char *ask,
    const ctl_handler_t *handlers, int argc, char **argv)
{
    const ctl_handler_t  *h;

    if (argc == 0) {
        return ctl_usage_error("%s%s", what, ask);
    }

    for (h = handlers; h->name; h++) {
        if (strcmp(argv[0], h->name) == 0) {
            return h->run(ctl, argc - 1, argv + 1);
        }
    }

    return ctl_usage_error("%sunknown command \"%s\"", what, argv[0]);
}


static int
ctl_help(ctl_t *ctl, int argc, char **argv)
{
    ctl_usage(stdout);

    return CTL_OK;
}


static void
ctl_usage(FILE *f)
{
    fputs(ctl_usage_text, f);
}


/* "consentctl: " and the message, on stderr, not yet ended */

static void
ctl_vmessage(const char *fmt, va_list args)
{
    fputs("consentctl: ", stderr);
    vfprintf(stderr, fmt, args);
}


void
ctl_error(const char *fmt, ...)
{
    va_list  args;

    fflush(stdout);

    va_start(args, fmt);
    ctl_vmessage(fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


int
ctl_usage_error(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ctl_vmessage(fmt, args);
    va_end(args);

    fputs("\n\n", stderr);
    ctl_usage(stderr);

    return CTL_USAGE;
}


/* a value that is wrong: the message is enough, without the usage */

int
ctl_arg_error(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ctl_vmessage(fmt, args);
    va_end(args);

    fputc('\n', stderr);

    return CTL_USAGE;
}


/*
 * A command's own arguments: exactly npos positionals into pos, options
 * anywhere among them ("--name value" or "--name=value").  Subject ids
 * the module makes are base64url and may start with any number of '-',
 * so an argument is an option only when it is one of the command's own
 * option names (or "--name=..."; an id never holds '='); any other
 * argument that starts with '-' is the first positional, the id or
 * vendor, if that is still missing, else an unknown option.  "--" ends
 * the options, for an id that is exactly an option's name.  CTL_OK or
 * CTL_USAGE.
 */

int
ctl_args(const char *cmd, int argc, char **argv, const ctl_opt_t *opts,
    char **pos, int npos)
{
    int               i, n, rc, done;
    char             *a, *eq;
    const ctl_opt_t  *o;

    n = 0;
    done = 0;

    for (i = 0; i < argc; i++) {
        a = argv[i];

        if (!done && strcmp(a, "--") == 0) {
            done = 1;
            continue;
        }

        o = NULL;
        eq = NULL;

        if (!done && a[0] == '-') {
            o = ctl_opt_find(opts, a, &eq);

            if (o == NULL && (n > 0 || n == npos)) {
                return ctl_usage_error("%s: unknown option \"%s\"", cmd, a);
            }
        }

        if (o == NULL) {
            if (n == npos) {
                return ctl_usage_error("%s: unexpected argument \"%s\"",
                                       cmd, a);
            }

            pos[n++] = a;
            continue;
        }

        rc = ctl_opt_set(cmd, o, eq, argc, argv, &i);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    if (n < npos) {
        return ctl_usage_error("%s: missing arguments", cmd);
    }

    return CTL_OK;
}


/* the option a names (up to its '=', put in *eq), or NULL */

static const ctl_opt_t *
ctl_opt_find(const ctl_opt_t *opts, const char *a, char **eq)
{
    size_t            len;
    const ctl_opt_t  *o;

    *eq = strchr(a, '=');
    len = *eq ? (size_t) (*eq - a) : strlen(a);

    for (o = opts; o && o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, a, len) == 0) {
            return o;
        }
    }

    return NULL;
}


/*
 * Option o given: a flag set, or its value taken from after eq, else
 * from the next argument (*i moves on to it).  CTL_OK or CTL_USAGE.
 */

static int
ctl_opt_set(const char *cmd, const ctl_opt_t *o, const char *eq, int argc,
    char **argv, int *i)
{
    const char  *value;

    if (o->value == NULL) {
        if (eq) {
            return ctl_usage_error("%s: %s takes no value", cmd, o->name);
        }

        *o->flag = 1;
        return CTL_OK;
    }

    if (eq) {
        value = eq + 1;

    } else if (*i + 1 < argc) {
        value = argv[++*i];

    } else {
        return ctl_usage_error("%s: %s needs a value", cmd, o->name);
    }

    if (*value == '\0') {
        return ctl_usage_error("%s: %s needs a value", cmd, o->name);
    }

    if (o->max == 0) {
        *o->value = value;
        return CTL_OK;
    }

    if (*o->count == o->max) {
        return ctl_usage_error("%s: %s given more than %d times", cmd,
                               o->name, o->max);
    }

    o->value[(*o->count)++] = value;

    return CTL_OK;
}


/* ctl_args() for a command whose first positional is a subject id */

int
ctl_subject_args(const char *cmd, int argc, char **argv,
    const ctl_opt_t *opts, char **pos, int npos)
{
    int  rc;

    rc = ctl_args(cmd, argc, argv, opts, pos, npos);
    if (rc != CTL_OK) {
        return rc;
    }

    if (consent_id_valid((const unsigned char *) pos[0], strlen(pos[0]))) {
        return CTL_OK;
    }

    return ctl_arg_error("invalid subject id \"%s\" (1 to %d of "
                         "[A-Za-z0-9._:@-])", pos[0], CONSENT_ID_MAX);
}


/* decimal digits only: no sign, no spaces, no "0x"; 12 of them at most */

int
ctl_parse_long(const char *s, long min, long max, long *out)
{
    size_t              len;
    unsigned long long  n;

    len = strlen(s);

    if (len > 12
        || ctl_str_uint(s, len, (unsigned long long) max, &n) != 0
        || n < (unsigned long long) min)
    {
        return -1;
    }

    *out = (long) n;

    return 0;
}


/* CONSENTCTL_REDIS: "unix:/path", "host:port", "[v6]:port" or "host" */

static int
ctl_redis_env(ctl_t *ctl, const char *value)
{
    if (strncmp(value, "unix:", 5) == 0) {
        if (value[5] == '\0') {
            return ctl_arg_error("CONSENTCTL_REDIS \"%s\": no socket path",
                                 value);
        }

        ctl->socket = value + 5;

        return CTL_OK;
    }

    return ctl_host_port(ctl, value, "CONSENTCTL_REDIS");
}


static int
ctl_host_port(ctl_t *ctl, const char *value, const char *what)
{
    if (ctl_parse_host_port(value, strlen(value), ctl->host_buf,
                            sizeof(ctl->host_buf), &ctl->port)
        != 0)
    {
        return ctl_arg_error("%s \"%s\": expected host:port or unix:/path",
                             what, value);
    }

    ctl->host = ctl->host_buf;

    return CTL_OK;
}


/*
 * "host:port", "[v6]:port", "host", "[v6]" or a bare IPv6 address, the
 * len bytes at value: the host into host (NUL-terminated, fewer than
 * size bytes) and the port, when there is one, into *port.  0, or -1 for
 * anything else (nothing is set then).
 */

int
ctl_parse_host_port(const char *value, size_t len, char *host, size_t size,
    int *port)
{
    size_t              hlen, plen;
    const char         *h, *colon, *end;
    unsigned long long  n;

    end = value + len;

    if (len && *value == '[') {
        /* an IPv6 address in brackets, then an optional ":port" */
        colon = memchr(value, ']', len);
        if (colon == NULL || colon == value + 1
            || (colon + 1 != end && colon[1] != ':'))
        {
            return -1;
        }

        h = value + 1;
        hlen = colon - h;
        colon = (colon + 1 != end) ? colon + 1 : NULL;

    } else {
        colon = memrchr(value, ':', len);

        /* a bare IPv6 address has more than one colon and no port */
        if (colon && memchr(value, ':', len) != colon) {
            colon = NULL;
        }

        h = value;
        hlen = colon ? (size_t) (colon - value) : len;
    }

    if (hlen == 0 || hlen >= size || memchr(h, '\0', hlen)) {
        return -1;
    }

    if (colon) {
        plen = end - (colon + 1);

        if (plen == 0 || plen > 12
            || ctl_str_uint(colon + 1, plen, 65535, &n) != 0 || n == 0)
        {
            return -1;
        }

        *port = (int) n;
    }

    memcpy(host, h, hlen);
    host[hlen] = '\0';

    return 0;
}


/* --purposes a,b: what the module's consent_purpose directives added */

static int
ctl_extra_purposes(ctl_t *ctl, const char *list)
{
    int          rc;
    const char  *p, *end, *name;
    size_t       len;

    p = list;
    end = list + strlen(list);

    while (ctl_purpose_next(&p, end, &name, &len)) {
        rc = consent_purposes_add(&ctl->purposes,
                                  (const unsigned char *) name, len);

        if (rc == CONSENT_PURPOSE_INVALID) {
            return ctl_arg_error("invalid purpose name \"%.*s\" in "
                                 "--purposes (1 to %d of [a-z0-9_], not "
                                 "starting with a digit)", (int) len,
                                 name, CONSENT_PURPOSE_NAME_MAX);
        }

        if (rc == CONSENT_PURPOSE_FULL) {
            return ctl_arg_error("too many purposes in --purposes "
                                 "(at most %d in all)",
                                 CONSENT_MAX_PURPOSES);
        }

        /* a duplicate (a standard one, or given twice) changes nothing */
    }

    return CTL_OK;
}
