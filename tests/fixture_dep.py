"""Fixture for the harness analysis test."""
