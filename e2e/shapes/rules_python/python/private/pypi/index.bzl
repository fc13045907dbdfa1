"""The fake package index: the wheels e2e/shapes installs, as installed files.

Each is small, pure Python, and chosen for a shape: a single-module distribution
(`six`, `typing_extensions`), a namespace package split over two distributions
(`jaraco.functools`, `jaraco.text`: no `jaraco/__init__.py` in either wheel), a
dependency between distributions, a `.pyi` stub and `py.typed` marker, package data
(`certifi/cacert.pem`), and a console script (`tabulate`).
"""

INDEX = {
    "certifi": {
        "dist": "certifi",
        "files": {
            "certifi/__init__.py": "from .core import contents, where\n\n__version__ = \"2024.8.30\"\n",
            "certifi/cacert.pem": "# fake CA bundle of e2e/shapes\n-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n",
            "certifi/core.py": "import os\n\n\ndef where():\n    return os.path.join(os.path.dirname(__file__), \"cacert.pem\")\n\n\ndef contents():\n    with open(where()) as f:\n        return f.read()\n",
            "certifi/py.typed": "",
        },
        "version": "2024.8.30",
    },
    "jaraco-functools": {
        "dist": "jaraco.functools",
        "files": {
            "jaraco/functools/__init__.py": "__version__ = \"4.1.0\"\n\n\ndef compose(*funcs):\n    def composed(x):\n        for f in reversed(funcs):\n            x = f(x)\n        return x\n\n    return composed\n",
            "jaraco/functools/__init__.pyi": "from typing import Any, Callable\n\ndef compose(*funcs: Callable[..., Any]) -> Callable[..., Any]: ...\n",
            "jaraco/functools/py.typed": "",
        },
        "version": "4.1.0",
    },
    "jaraco-text": {
        "dist": "jaraco.text",
        "files": {
            "jaraco/text/__init__.py": "from jaraco.functools import compose\n\n__version__ = \"4.0.0\"\n\nshout = compose(str.upper, str.strip)\n",
            "jaraco/text/layouts.py": "QWERTY = \"qwertyuiop\"\n",
        },
        "requires": ["jaraco.functools"],
        "version": "4.0.0",
    },
    "six": {
        "dist": "six",
        "files": {
            "six.py": "\"\"\"Fake six of e2e/shapes: a single-module distribution.\"\"\"\n\n__version__ = \"1.17.0\"\nPY3 = True\n",
        },
        "version": "1.17.0",
    },
    "tabulate": {
        "dist": "tabulate",
        "entry_points": "[console_scripts]\ntabulate = tabulate:_main\n",
        "files": {
            "tabulate/__init__.py": "__version__ = \"0.9.0\"\n\n\ndef tabulate(rows):\n    return \"\\n\".join(\" | \".join(str(c) for c in r) for r in rows)\n\n\ndef _main():\n    import sys\n\n    print(tabulate([[\"tabulate\", __version__], [\"argv\", \" \".join(sys.argv[1:])]]))\n    print(\"console script prefix: \" + sys.prefix)\n",
            "tabulate/version.py": "__version__ = \"0.9.0\"\n",
        },
        "version": "0.9.0",
    },
    "typing-extensions": {
        "dist": "typing_extensions",
        "files": {
            "typing_extensions.py": "\"\"\"Fake typing_extensions of e2e/shapes.\"\"\"\n\nfrom typing import Protocol  # noqa: F401\n\n__version__ = \"4.12.2\"\n",
        },
        "version": "4.12.2",
    },
}
