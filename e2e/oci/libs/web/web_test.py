"""Unit tests of //libs/web."""

import unittest

from libs.web.web import Router, banner


class RouterTest(unittest.TestCase):
    def setUp(self):
        self.router = Router()

        @self.router.get("/echo")
        def echo(params):
            if "fail" in params:
                raise ValueError("asked to fail")
            return params

    def test_dispatch(self):
        self.assertEqual(self.router.dispatch("/echo?a=1&b=x"), (200, {"a": "1", "b": "x"}))

    def test_errors(self):
        self.assertEqual(self.router.dispatch("/echo?fail=1"), (400, {"error": "asked to fail"}))
        self.assertEqual(self.router.dispatch("/echo?a=1&a=2"), (400, {"error": "a given twice"}))
        self.assertEqual(self.router.dispatch("/nope")[0], 404)

    def test_banner(self):
        self.assertIs(banner(), banner())


if __name__ == "__main__":
    unittest.main()
