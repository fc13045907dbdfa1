"""The migration's own first-party code."""

STEPS = [("0001", "create items"), ("0002", "add index")]
