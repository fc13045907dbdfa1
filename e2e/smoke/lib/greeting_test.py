"""Unit test of the first-party library."""

import types
import unittest

from lib import greeting


class GreetingTest(unittest.TestCase):
    def test_greeting(self):
        self.assertEqual(greeting.greeting("smoke"), "Hello from smoke!")

    def test_version_rows_sorted(self):
        b = types.ModuleType("b")
        b.__version__ = "2.0"
        a = types.ModuleType("a")
        self.assertEqual(greeting.version_rows([b, a]), [("a", "unknown"), ("b", "2.0")])


if __name__ == "__main__":
    unittest.main()
