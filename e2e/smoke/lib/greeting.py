"""First-party library of the smoke app."""


def greeting(name):
    """Returns the greeting line the app prints first."""
    return "Hello from %s!" % name


def version_rows(modules):
    """Returns sorted (name, version) rows for imported modules."""
    rows = []
    for module in modules:
        version = getattr(module, "__version__", "unknown")
        rows.append((module.__name__, version))
    return sorted(rows)
