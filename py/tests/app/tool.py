import gamma  # noqa: F401  (fake pip package)

print("tool ok")
