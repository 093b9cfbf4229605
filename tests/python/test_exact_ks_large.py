"""Exact KS on large windows (where libs/monitoring computes D without sorting, and sums only
the terms of Smirnov's series that count) equals scipy.stats.ks_2samp: the statistic to the
last bit, the p-value to 1e-9."""

import numpy as np
import pytest
from scipy import stats

from test_drift_statistics import P_VALUE, draw, probe, seed


@pytest.mark.parametrize("n_ref,n_cur", [(60000, 50000), (200000, 30000)])
@pytest.mark.parametrize("scenario", ["same", "shift", "scale", "missing_burst", "ties"])
def test_large_windows_equal_scipy_bit_for_bit(tmp_path, scenario, n_ref, n_cur):
    rng = np.random.default_rng(seed("large", scenario, n_ref, n_cur))
    reference, current = draw(rng, scenario, n_ref, n_cur)
    got = probe(tmp_path, "numeric", reference, current)
    ref, cur = reference[np.isfinite(reference)], current[np.isfinite(current)]
    want = stats.ks_2samp(ref, cur)
    assert not got["ks"]["exact"]
    assert got["ks"]["statistic"] == want.statistic
    assert got["ks"]["p_value"] == pytest.approx(want.pvalue, **P_VALUE)


@pytest.mark.parametrize("shift", [0.008, 0.012, 0.02, 0.03])
def test_p_values_of_small_shifts_equal_scipy(tmp_path, shift):
    """n·D² from about 1 to 15 (n = 100,000): from 2.2 up, scipy's p-value is twice Smirnov's
    one-sided sum, here of some 100,000 terms."""
    rng = np.random.default_rng(seed("small shift", shift))
    reference, current = rng.normal(0, 1, 200000), rng.normal(shift, 1, 200000)
    got = probe(tmp_path, "numeric", reference, current)
    want = stats.ks_2samp(reference, current)
    assert got["ks"]["statistic"] == want.statistic
    assert got["ks"]["p_value"] == pytest.approx(want.pvalue, rel=1e-9, abs=1e-300)
