"""The worker's own first-party code."""

JOBS = ["resize", "notify"]
