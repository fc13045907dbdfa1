"""The server's own first-party code."""

ROUTES = ["/health", "/api/items"]
