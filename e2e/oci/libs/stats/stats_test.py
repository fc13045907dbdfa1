"""Unit tests of //libs/stats."""

import unittest

from libs.stats.stats import linear_fit, parse_series, summary


class StatsTest(unittest.TestCase):
    def test_summary(self):
        self.assertEqual(
            summary(parse_series("1,2,3,4")),
            {"count": 4, "mean": 2.5, "std": 1.290994, "quartiles": [1.75, 2.5, 3.25]},
        )

    def test_linear_fit(self):
        fit = linear_fit(parse_series("0,1,2,3"), parse_series("1,3,5,7"))
        self.assertEqual(fit, {"slope": 2.0, "intercept": 1.0})

    def test_bad_input(self):
        with self.assertRaisesRegex(ValueError, "not a number series"):
            parse_series("1,x")
        with self.assertRaisesRegex(ValueError, "empty series"):
            parse_series(" , ")
        with self.assertRaisesRegex(ValueError, "differ in length"):
            linear_fit(parse_series("1,2"), parse_series("1"))


if __name__ == "__main__":
    unittest.main()
