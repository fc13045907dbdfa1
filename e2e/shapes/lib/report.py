"""First-party code of e2e/shapes."""


def rows(modules):
    return [(m.__name__, getattr(m, "__version__", "-")) for m in modules]
