import alpha  # noqa: F401  (fake pip package)

print("worker ok")
