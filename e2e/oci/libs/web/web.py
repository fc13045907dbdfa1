"""First-party library: a tiny JSON router on top of http.server.

Uses the namespace packages jaraco.functools / jaraco.context (two distributions
sharing the `jaraco` namespace) and more-itertools.
"""

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import more_itertools
from jaraco.context import ExceptionTrap
from jaraco.functools import once


class Router:
    """Maps GET paths to handlers `fn(params) -> dict`; params: one value per name."""

    def __init__(self):
        self._routes = {}

    def get(self, path):
        def register(fn):
            self._routes[path] = fn
            return fn

        return register

    def paths(self):
        return sorted(self._routes)

    def dispatch(self, target):
        """Returns (status, body dict) for a request target such as `/stats?values=1,2`."""
        url = urlsplit(target)
        fn = self._routes.get(url.path)
        if fn is None:
            return 404, {"error": "no route %s" % url.path, "routes": self.paths()}
        trap = ExceptionTrap(ValueError)
        with trap:
            params = {
                k: more_itertools.one(v, too_long=ValueError("%s given twice" % k))
                for k, v in parse_qs(url.query).items()
            }
            body = fn(params)
        if trap:
            return 400, {"error": str(trap.value)}
        return 200, body


def handler_class(router, log):
    """A BaseHTTPRequestHandler that answers GET with the router's JSON."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "oci-example"

        def do_GET(self):
            status, body = router.dispatch(self.path)
            data = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            log(fmt % args)

    return Handler


@once
def banner():
    """The service's name line (computed once: jaraco.functools.once)."""
    return "rules_pyimage oci example service"
