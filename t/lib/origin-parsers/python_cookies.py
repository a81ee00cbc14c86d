#!/usr/bin/python3
# What a Python origin framework reads as cookie names from a Cookie header
# (driver for t/71-origin-parsers.t).
#
#   python_cookies.py MODE < input > output
#
# MODE (each runs the framework's own code, as an application gets it):
#   simplecookie  http.cookies.SimpleCookie().load() on the header decoded
#                 latin-1 (PEP 3333), as Bottle, aiohttp and CherryPy use it
#   werkzeug      Werkzeug (Flask) Request(environ).cookies
#   django-wsgi   Django WSGIRequest(environ).COOKIES: HTTP_COOKIE as a
#                 latin-1 str, which Django re-decodes as UTF-8
#   django-parse  django.http.cookie.parse_cookie() on the header decoded
#                 latin-1 (what Django's ASGI request does)
#
# Input: one Cookie header value a line, as hex (an empty line is an empty
# header).  Output: one line per input line,
#   ok<TAB>hexname hexname ...
#   err<TAB>hexname hexname ...<TAB>message
# with every name the application can look up, in the parser's order
# (after an error: what the parser had read before it).  Names the
# framework holds as latin-1 strings are printed as those bytes, names it
# decoded as UTF-8 as UTF-8.
#
# Exit status 3, with a message on stderr, when the framework is not
# installed (the test skips it); its version goes to stderr otherwise.

import sys


def fail_missing(what, e):
    sys.stderr.write('%s is not installed (%s)\n' % (what, e))
    sys.exit(3)


def hexname(name, enc):
    return name.encode(enc, 'surrogateescape').hex() if enc == 'utf-8' \
        else name.encode(enc).hex()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ''

    if mode == 'simplecookie':
        from http.cookies import SimpleCookie
        sys.stderr.write('python %s http.cookies\n' % sys.version.split()[0])
        enc = 'latin-1'

        def parse(b):
            c = SimpleCookie()
            err = None
            try:
                c.load(b.decode('latin-1'))
            except Exception as e:   # CookieError: what was set stays
                err = '%s: %s' % (type(e).__name__, e)
            return list(c.keys()), err

    elif mode == 'werkzeug':
        try:
            import werkzeug
            from werkzeug.test import EnvironBuilder
            from werkzeug.wrappers import Request
        except ImportError as e:
            fail_missing('werkzeug (Debian python3-werkzeug)', e)
        try:
            from importlib.metadata import version
            v = version('werkzeug')
        except Exception:
            v = getattr(werkzeug, '__version__', '?')
        sys.stderr.write('werkzeug %s\n' % v)
        base = EnvironBuilder(path='/').get_environ()
        enc = 'utf-8'

        def parse(b):
            env = dict(base)
            env['HTTP_COOKIE'] = b.decode('latin-1')
            return list(Request(env).cookies.keys()), None

    elif mode in ('django-wsgi', 'django-parse'):
        try:
            import io
            import django
            from django.conf import settings
            settings.configure(DEBUG=False, ALLOWED_HOSTS=['*'],
                               DEFAULT_CHARSET='utf-8')
            django.setup()
            from django.core.handlers.wsgi import WSGIRequest
            from django.http.cookie import parse_cookie
        except ImportError as e:
            fail_missing('django (Debian python3-django)', e)
        sys.stderr.write('django %s\n' % django.get_version())

        if mode == 'django-wsgi':
            enc = 'utf-8'

            def parse(b):
                env = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/',
                       'SERVER_NAME': 'origin', 'SERVER_PORT': '80',
                       'wsgi.input': io.BytesIO(b''),
                       'wsgi.url_scheme': 'http',
                       'HTTP_COOKIE': b.decode('latin-1')}
                return list(WSGIRequest(env).COOKIES.keys()), None
        else:
            enc = 'latin-1'

            def parse(b):
                return list(parse_cookie(b.decode('latin-1')).keys()), None

    else:
        sys.stderr.write('usage: python_cookies.py '
                         'simplecookie|werkzeug|django-wsgi|django-parse\n')
        sys.exit(2)

    out = []
    for line in sys.stdin.buffer:
        h = line.strip().decode('ascii')
        try:
            names, err = parse(bytes.fromhex(h))
        except Exception as e:
            names, err = [], '%s: %s' % (type(e).__name__, e)
        names = ' '.join(hexname(n, enc) for n in names)
        if err is None:
            out.append('ok\t%s\n' % names)
        else:
            err = err.replace('\t', ' ').replace('\n', ' ')
            out.append('err\t%s\t%s\n' % (names, err))
    sys.stdout.write(''.join(out))


main()
