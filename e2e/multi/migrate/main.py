"""migrate: prints its steps as a table."""

import six
import tabulate

from common.report import report
from migrate.steps import STEPS

print(report("migrate", [six, tabulate]))
print(tabulate.tabulate(STEPS, headers=["step", "what"], tablefmt="github"))
print("migrate six: " + six.__version__)
