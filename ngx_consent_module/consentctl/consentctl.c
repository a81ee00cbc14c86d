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


static void ctl_usage(FILE *f);
static int ctl_redis_env(ctl_t *ctl, const char *value);
static int ctl_host_port(ctl_t *ctl, const char *value, const char *what);
static int ctl_extra_purposes(ctl_t *ctl, const char *list);


static const char  ctl_usage_text[] =
    "Usage: consentctl [options] command [arguments]\n"
    "\n"
    "Commands:\n"
    "  subject get ID                 the subject's record, as JSON\n"
    "  subject set ID PURPOSES [--policy-version N]\n"
    "                                 record a decision (PURPOSES: a comma\n"
    "                                 list, or \"none\"), with a receipt\n"
    "  subject erase ID [--keep-receipts]\n"
    "                                 delete the record and its receipts\n"
    "  receipts ID                    the subject's receipts, JSON lines\n"
    "  rules list [--rules FILE]      vendors of the rules file(s) and\n"
    "                                 whether Redis switched them off\n"
    "  rules enable VENDOR [--rules FILE] [--force]\n"
    "                                 switch a vendor's rules back on\n"
    "  rules disable VENDOR [--rules FILE] [--force]\n"
    "                                 switch a vendor's rules off\n"
    "  stats                          counts of subjects, purposes, "
    "receipts\n"
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
    CTL_DEFAULT_RULES "), and stored as they spell it;\n"
    "an unknown vendor is refused.  --force takes the name as given,\n"
    "without reading rules files (vendors of consent_rule in nginx.conf).\n"
    "\n"
    "Options:\n"
    "  -H, --host HOST                Redis host (default 127.0.0.1)\n"
    "  -p, --port PORT                Redis port (default 6379)\n"
    "  -s, --socket PATH              Redis unix socket\n"
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
    "unix:/path sets the default address.\n"
    "Exit status: 0 done, 1 runtime error (Redis, not found), "
    "2 bad usage.\n";


int
main(int argc, char **argv)
{
    int          c, rc, tcp, sock;
    long         n;
    ctl_t        ctl;
    const char  *cmd, *env;

    static const struct option  longopts[] = {
        { "host",          required_argument, NULL, 'H' },
        { "port",          required_argument, NULL, 'p' },
        { "socket",        required_argument, NULL, 's' },
        { "db",            required_argument, NULL, 'n' },
        { "password-file", required_argument, NULL, 'a' },
        { "prefix",        required_argument, NULL, 'P' },
        { "timeout",       required_argument, NULL, 'T' },
        { "purposes",      required_argument, NULL, 'U' },
        { "help",          no_argument,       NULL, 'h' },
        { "version",       no_argument,       NULL, 'V' },
        { NULL,            0,                 NULL, 0 }
    };

    memset(&ctl, 0, sizeof(ctl_t));

    ctl.host = CTL_DEFAULT_HOST;
    ctl.port = CTL_DEFAULT_PORT;
    ctl.prefix = CTL_DEFAULT_PREFIX;
    ctl.timeout = CTL_DEFAULT_TIMEOUT;

    consent_purposes_init(&ctl.purposes);

    /* the environment gives defaults; options given override them */
    env = getenv("CONSENTCTL_REDIS");

    if (env && *env) {
        rc = ctl_redis_env(&ctl, env);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    tcp = 0;
    sock = 0;
    opterr = 0;

    /* "+": options stop at the command, whose own options follow it */
    while ((c = getopt_long(argc, argv, "+:H:p:s:n:a:h", longopts, NULL))
           != -1)
    {
        switch (c) {

        case 'H':
            if (*optarg == '\0') {
                return ctl_arg_error("empty --host");
            }

            ctl.host = optarg;
            tcp = 1;
            break;

        case 'p':
            if (ctl_parse_long(optarg, 1, 65535, &n) != 0) {
                return ctl_arg_error("invalid --port \"%s\"", optarg);
            }

            ctl.port = (int) n;
            tcp = 1;
            break;

        case 's':
            if (*optarg == '\0') {
                return ctl_arg_error("empty --socket");
            }

            ctl.socket = optarg;
            sock = 1;
            break;

        case 'n':
            if (ctl_parse_long(optarg, 0, 1000000, &ctl.db) != 0) {
                return ctl_arg_error("invalid --db \"%s\"", optarg);
            }

            break;

        case 'a':
            ctl.password_file = optarg;
            break;

        case 'P':
            ctl.prefix = optarg;
            break;

        case 'T':
            if (ctl_parse_long(optarg, 1, 3600000, &ctl.timeout) != 0) {
                return ctl_arg_error("invalid --timeout \"%s\" "
                                     "(milliseconds, 1 to 3600000)",
                                     optarg);
            }

            break;

        case 'U':
            rc = ctl_extra_purposes(&ctl, optarg);
            if (rc != CTL_OK) {
                return rc;
            }

            break;

        case 'h':
            ctl_usage(stdout);
            return CTL_OK;

        case 'V':
            printf("consentctl %s\n", CONSENTCTL_VERSION);
            return CTL_OK;

        case ':':
            return ctl_usage_error("option \"%s\" needs a value",
                                   argv[optind - 1]);

        default:
            return ctl_usage_error("unknown option \"%s\"",
                                   argv[optind - 1]);
        }
    }

    if (tcp && sock) {
        return ctl_usage_error("give either --socket or --host/--port, "
                               "not both");
    }

    if (tcp) {
        ctl.socket = NULL;
    }

    ctl.prefix_len = strlen(ctl.prefix);

    if (ctl.socket) {
        snprintf(ctl.addr, sizeof(ctl.addr), "unix:%s", ctl.socket);

    } else if (strchr(ctl.host, ':')) {
        snprintf(ctl.addr, sizeof(ctl.addr), "[%s]:%d", ctl.host, ctl.port);

    } else {
        snprintf(ctl.addr, sizeof(ctl.addr), "%s:%d", ctl.host, ctl.port);
    }

    if (optind >= argc) {
        return ctl_usage_error("no command given");
    }

    cmd = argv[optind];
    argc -= optind + 1;
    argv += optind + 1;

    if (strcmp(cmd, "subject") == 0) {
        rc = ctl_subject(&ctl, argc, argv);

    } else if (strcmp(cmd, "receipts") == 0) {
        rc = ctl_receipts(&ctl, argc, argv);

    } else if (strcmp(cmd, "rules") == 0) {
        rc = ctl_rules(&ctl, argc, argv);

    } else if (strcmp(cmd, "stats") == 0) {
        rc = ctl_stats(&ctl, argc, argv);

    } else if (strcmp(cmd, "keys") == 0) {
        rc = ctl_keys(&ctl, argc, argv);

    } else if (strcmp(cmd, "help") == 0) {
        ctl_usage(stdout);
        rc = CTL_OK;

    } else {
        return ctl_usage_error("unknown command \"%s\"", cmd);
    }

    ctl_disconnect(&ctl);

    /* output that did not reach its reader is a failure, not success */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_error("writing the output: %s", strerror(errno));
        return CTL_ERROR;
    }

    return rc;
}


static void
ctl_usage(FILE *f)
{
    fputs(ctl_usage_text, f);
}


void
ctl_error(const char *fmt, ...)
{
    va_list  args;

    fflush(stdout);

    fputs("consentctl: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


int
ctl_usage_error(const char *fmt, ...)
{
    va_list  args;

    fputs("consentctl: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
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

    fputs("consentctl: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
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
    int               i, n, done;
    char             *a, *eq;
    size_t            len;
    const char       *value;
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
            eq = strchr(a, '=');
            len = eq ? (size_t) (eq - a) : strlen(a);

            for (o = opts; o && o->name; o++) {
                if (strlen(o->name) == len && strncmp(o->name, a, len) == 0)
                {
                    break;
                }
            }

            if (o && o->name == NULL) {
                o = NULL;
            }

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

        if (o->value == NULL) {
            if (eq) {
                return ctl_usage_error("%s: %s takes no value", cmd,
                                       o->name);
            }

            *o->flag = 1;
            continue;
        }

        if (eq) {
            value = eq + 1;

        } else if (i + 1 < argc) {
            value = argv[++i];

        } else {
            return ctl_usage_error("%s: %s needs a value", cmd, o->name);
        }

        if (*value == '\0') {
            return ctl_usage_error("%s: %s needs a value", cmd, o->name);
        }

        if (o->max == 0) {
            *o->value = value;
            continue;
        }

        if (*o->count == o->max) {
            return ctl_usage_error("%s: %s given more than %d times", cmd,
                                   o->name, o->max);
        }

        o->value[(*o->count)++] = value;
    }

    if (n < npos) {
        return ctl_usage_error("%s: missing arguments", cmd);
    }

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


/* decimal digits only: no sign, no spaces, no "0x" */

int
ctl_parse_long(const char *s, long min, long max, long *out)
{
    long    n;
    size_t  i;

    if (*s == '\0' || strlen(s) > 12) {
        return -1;
    }

    n = 0;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        n = n * 10 + (s[i] - '0');
    }

    if (n < min || n > max) {
        return -1;
    }

    *out = n;

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
    long         n;
    size_t       hlen;
    const char  *colon, *end;

    end = value + strlen(value);

    if (*value == '[') {
        /* an IPv6 address in brackets, then an optional ":port" */
        colon = strchr(value, ']');
        if (colon == NULL || colon == value + 1
            || (colon[1] != '\0' && colon[1] != ':'))
        {
            goto invalid;
        }

        value++;
        hlen = colon - value;
        colon = colon[1] ? colon + 1 : NULL;

    } else {
        colon = strrchr(value, ':');

        /* a bare IPv6 address has more than one colon and no port */
        if (colon && strchr(value, ':') != colon) {
            colon = NULL;
        }

        hlen = colon ? (size_t) (colon - value) : (size_t) (end - value);
    }

    if (hlen == 0 || hlen >= sizeof(ctl->host_buf)) {
        goto invalid;
    }

    if (colon) {
        if (ctl_parse_long(colon + 1, 1, 65535, &n) != 0) {
            goto invalid;
        }

        ctl->port = (int) n;
    }

    memcpy(ctl->host_buf, value, hlen);
    ctl->host_buf[hlen] = '\0';
    ctl->host = ctl->host_buf;

    return CTL_OK;

invalid:

    return ctl_arg_error("%s \"%s\": expected host:port or unix:/path",
                         what, value);
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
