"""First-party library of e2e/tiers."""


def greeting(name):
    return "hello, " + name
