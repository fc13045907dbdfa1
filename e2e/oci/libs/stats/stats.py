"""First-party library: summary statistics and a linear fit of number series (numpy)."""

import numpy as np


def parse_series(text):
    """Parses `1,2.5,3` into a float array; raises ValueError with the bad item."""
    items = [s for s in text.split(",") if s.strip()]
    if not items:
        raise ValueError("empty series")
    try:
        return np.array([float(s) for s in items], dtype=np.float64)
    except ValueError as e:
        raise ValueError("not a number series: %r (%s)" % (text, e)) from None


def summary(values):
    """Count, mean, sample standard deviation and quartiles, rounded for display."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {
        "count": int(values.size),
        "mean": round(float(values.mean()), 6),
        "std": round(float(values.std(ddof=1)) if values.size > 1 else 0.0, 6),
        "quartiles": [round(float(q), 6) for q in (q1, median, q3)],
    }


def linear_fit(x, y):
    """Least-squares line y = slope * x + intercept (numpy.linalg: the bundled OpenBLAS)."""
    if x.shape != y.shape:
        raise ValueError("x and y differ in length: %d != %d" % (x.size, y.size))
    design = np.vstack([x, np.ones_like(x)]).T
    (slope, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    return {"slope": round(float(slope), 6), "intercept": round(float(intercept), 6)}
