import alpha  # noqa: F401  (fake pip package)
import gamma  # noqa: F401

print("ok")
