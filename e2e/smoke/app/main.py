"""Smoke service: handles one request in-process and reports its environment.

Uses real pip packages (requests + urllib3, idna, certifi, charset-normalizer,
colorama, six, packaging, tabulate) and the first-party //lib:greeting, and
prints which interpreter runs it (in the image: the one from our layer).
"""

import os
import sys

import certifi
import charset_normalizer
import colorama
import idna
import packaging
import requests
import six
import tabulate
import urllib3
from packaging.version import Version

from lib.greeting import greeting, version_rows

MODULES = [certifi, charset_normalizer, colorama, idna, packaging, requests, six, tabulate, urllib3]


def handle(path, query):
    """Builds (without sending) the request the service would make upstream."""
    req = requests.Request("GET", "https://bücher.example" + path, params=query).prepare()
    return req.url


def main():
    print(greeting("rules_pyimage smoke"))
    print("python: %d.%d.%d" % sys.version_info[:3])
    print("executable: %s" % sys.executable)
    print("prefix: %s" % sys.prefix)
    rows = version_rows(MODULES)
    print(tabulate.tabulate(rows, headers=["package", "version"], tablefmt="github"))
    print("request: %s" % handle("/api/layers", {"q": "smoke"}))
    print("idna: %s" % idna.encode("bücher.example").decode("ascii"))
    best = charset_normalizer.from_bytes("Grüße aus dem Container, schön!".encode("utf-8")).best()
    print("charset: %s" % best.encoding)
    print("certifi bundle: %s (%s)" % (certifi.where(), "present" if os.path.isfile(certifi.where()) else "MISSING"))
    print("urllib3 pool: %s" % type(urllib3.PoolManager()).__name__)
    print("six: PY3=%s" % six.PY3)
    print("newest version: %s" % max(Version(v) for _, v in rows if v[0].isdigit()))
    print(colorama.Fore.GREEN + "status: ok" + colorama.Style.RESET_ALL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
