"""Fixture for the harness analysis test."""

from tests import fixture_dep  # noqa: F401
