"""worker: lists its jobs."""

import colorama
import requests

from common.report import report
from worker.jobs import JOBS

print(report("worker", [colorama, requests]))
print("worker jobs: " + ",".join(JOBS) + colorama.Style.RESET_ALL)
