"""The oci example service: summary statistics of number series over HTTP.

    service serve [--host HOST] [--port PORT]   serve until stopped (the image's default)
    service check                               serve on a free loopback port, query every
                                                endpoint once, print the answers, stop

Endpoints: /health, /stats?values=1,2,3, /fit?x=..&y=.., /about. Built on numpy (native
extension modules and the OpenBLAS bundled in numpy.libs/), the namespace packages
jaraco.functools and jaraco.context, and the first-party //libs/stats and //libs/web.
"""

import argparse
import contextlib
import importlib
import importlib.metadata
import io
import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import jaraco

from libs.stats.stats import linear_fit, parse_series, summary
from libs.web.web import Router, banner, handler_class

# Every module the image must be able to import (pip packages, namespace
# packages, native extension modules, first-party code).
MODULES = [
    "numpy",
    "numpy.linalg",
    "numpy.fft",
    "numpy.random",
    "jaraco.context",
    "jaraco.functools",
    "more_itertools",
    "backports.tarfile",
    "libs.stats.stats",
    "libs.web.web",
]
DISTRIBUTIONS = ["numpy", "jaraco.context", "jaraco.functools", "more-itertools", "backports.tarfile"]
# Request target -> the status `check` expects.
CHECKS = {
    "/health": 200,
    "/stats?values=3,1,4,1,5,9,2,6": 200,
    "/fit?x=0,1,2,3&y=1,3,5,7": 200,
    "/stats?values=1,x": 400,
    "/missing": 404,
    "/about": 200,
}

router = Router()


@router.get("/health")
def health(_params):
    return {"status": "ok"}


@router.get("/stats")
def stats(params):
    return summary(parse_series(params.get("values", "")))


@router.get("/fit")
def fit(params):
    return linear_fit(parse_series(params.get("x", "")), parse_series(params.get("y", "")))


@router.get("/about")
def about(_params):
    return {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "distributions": {d: importlib.metadata.version(d) for d in DISTRIBUTIONS},
        "numpy-config --version": console_script("numpy-config", ["--version"]),
        "jaraco namespace portions": len(list(jaraco.__path__)),
    }


def console_script(name, args):
    """Runs a console script of an installed distribution in-process (its entry point)."""
    (ep,) = importlib.metadata.entry_points(group="console_scripts", name=name)
    main = ep.load()
    out = io.StringIO()
    argv = sys.argv
    sys.argv = [name] + args
    try:
        with contextlib.redirect_stdout(out):
            main()
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv = argv
    return out.getvalue().strip()


def bundled_libraries():
    """Shared libraries this process mapped from a wheel's bundled `<pkg>.libs/` folder."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if ".libs/" in line}
    return sorted(paths)


def start(host, port):
    server = ThreadingHTTPServer((host, port), handler_class(router, lambda m: print("access: " + m, file=sys.stderr)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check():
    """Serves on a free loopback port, queries every endpoint, prints each answer."""
    print(banner())
    print("python: %d.%d.%d" % sys.version_info[:3])
    print("executable: %s" % sys.executable)
    for name in MODULES:
        importlib.import_module(name)
    print("imports: %d modules ok (%s)" % (len(MODULES), ", ".join(MODULES)))
    server = start("127.0.0.1", 0)
    base = "http://127.0.0.1:%d" % server.server_address[1]
    failures = 0
    for path, want in CHECKS.items():
        try:
            with urllib.request.urlopen(base + path) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        print("GET %s -> %d %s" % (path, status, json.dumps(json.loads(body), sort_keys=True)))
        failures += status != want
    server.shutdown()
    for lib in bundled_libraries():
        print("bundled library: %s" % lib)
    print("status: %s" % ("ok" if failures == 0 else "%d unexpected answers" % failures))
    return 1 if failures else 0


def main(argv):
    parser = argparse.ArgumentParser(prog="service", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve until stopped")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    sub.add_parser("check", help="query every endpoint once on a loopback port and exit")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    server = start(args.host, args.port)
    print("%s: serving on %s:%d (routes %s)" % (banner(), args.host, server.server_address[1], router.paths()), flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
