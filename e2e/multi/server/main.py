"""server: builds (without sending) a request per route."""

import platform

import colorama
import requests
import six
import tabulate

from common.report import report
from server.routes import ROUTES

print(report("server", [colorama, requests, six, tabulate]))
for route in ROUTES:
    print("server route: " + requests.Request("GET", "https://bücher.example" + route).prepare().url)
print("machine: " + platform.machine())
