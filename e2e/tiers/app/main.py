"""e2e/tiers app: imports every pip package so the runfiles hold them all."""

import colorama
import packaging.version
import requests
import six
import tabulate

from libs.greet.greet import greeting

if __name__ == "__main__":
    print(greeting("tiers"))
    print(tabulate.tabulate([["requests", requests.__version__], ["six", six.__version__]]))
    print(packaging.version.Version("1.2.3"), colorama.Fore.RESET == "\x1b[39m")
