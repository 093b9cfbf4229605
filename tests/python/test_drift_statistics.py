"""The monitor's drift statistics equal scipy's on exact data (to 1e-9): the probe built from
libs/monitoring prints them for two windows, and each is recomputed here with scipy and numpy
as Evidently computes them. Windows are drawn as live data drifts: normal shifts, scale changes,
new categories, bursts of missing values; sizes cover both of ks_2samp's p-value regimes (exact
up to 10,000 values a side, the Kolmogorov distribution above, with small and large n)."""

import json
import subprocess
import zlib

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from conftest import BIN_DIR

PROBE = BIN_DIR / "tests" / "drift_statistics_probe"
STATISTIC = dict(rel=1e-9, abs=1e-12)  # statistics: relative
P_VALUE = dict(rel=1e-9, abs=1e-9)  # p-values in [0, 1]: absolute


def seed(*parts):
    """A seed fixed by the case's parameters (Python's hash() changes between runs)."""
    return zlib.crc32(repr(parts).encode())


def probe(tmp_path, kind, reference, current):
    path = tmp_path / "windows.txt"
    if kind == "numeric":
        line = lambda name, xs: name + " " + " ".join(repr(float(x)) for x in xs)
    else:
        line = lambda name, counts: name + " " + " ".join(f"{k}={v}" for k, v in counts.items())
    path.write_text("\n".join([kind, line("reference", reference), line("current", current)]))
    run = subprocess.run([str(PROBE), str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)


def fill_zeros(shares):
    """Evidently's epsilon for empty bins and categories (get_binned_data, feel_zeroes)."""
    shares = np.array(shares, dtype=float)
    smallest = shares[shares != 0].min()
    shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return shares


def evidently_bins(reference, current):
    """Counts per bin as Evidently's get_binned_data computes them before dividing."""
    if len(np.unique(reference)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
        return np.histogram(reference, edges)[0], np.histogram(current, edges)[0]
    keys = np.union1d(reference, current)
    return (np.array([np.sum(reference == k) for k in keys]),
            np.array([np.sum(current == k) for k in keys]))


def check_count_statistics(got, ref_counts, cur_counts):
    ref_counts, cur_counts = np.asarray(ref_counts, float), np.asarray(cur_counts, float)
    r, c = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    rz, cz = fill_zeros(r), fill_zeros(c)
    assert got["psi"] == pytest.approx(np.sum((rz - cz) * np.log(rz / cz)), **STATISTIC)
    assert got["jensenshannon"] == pytest.approx(distance.jensenshannon(r, c), **STATISTIC)
    assert got["jensenshannon_base2"] == pytest.approx(distance.jensenshannon(r, c, base=2),
                                                       **STATISTIC)


def check_categorical_tests(got, ref_counts, cur_counts):
    """Chi-square against the reference's shares (empty ones at Evidently's epsilon,
    renormalised) scaled to the current total; the Z-test for two categories."""
    ref_counts, cur_counts = np.asarray(ref_counts, float), np.asarray(cur_counts, float)
    shares = fill_zeros(ref_counts / ref_counts.sum())
    expected = shares / shares.sum() * cur_counts.sum()
    want = stats.chisquare(cur_counts, expected)
    assert got["chisquare"]["expected"] == pytest.approx(expected, rel=1e-12)
    assert got["chisquare"]["statistic"] == pytest.approx(want.statistic, **STATISTIC)
    assert got["chisquare"]["p_value"] == pytest.approx(want.pvalue, **P_VALUE)
    if len(ref_counts) == 2:
        n1, n2 = ref_counts.sum(), cur_counts.sum()
        p1, p2 = ref_counts[1] / n1, cur_counts[1] / n2
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        assert got["ztest"]["statistic"] == pytest.approx(z, **STATISTIC)
        assert got["ztest"]["p_value"] == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))),
                                                        **P_VALUE)
    else:
        assert "ztest" not in got


def draw(rng, scenario, n_ref, n_cur):
    reference = rng.normal(0, 1, n_ref)
    if scenario == "same":
        current = rng.normal(0, 1, n_cur)
    elif scenario == "shift":
        current = rng.normal(0.3, 1, n_cur)
    elif scenario == "scale":
        current = rng.normal(0, 1.5, n_cur)
    elif scenario == "missing_burst":
        current = rng.normal(0, 1, n_cur)
        start = n_cur // 3
        current[start:start + n_cur // 4] = np.nan
        reference[::17] = np.nan
        current[::29] = np.inf
    elif scenario == "ties":  # rounded values: many equal values across the windows
        reference, current = np.round(reference, 1), np.round(rng.normal(0.1, 1, n_cur), 1)
    return reference, current


SIZES = [(40, 35), (200, 200), (1000, 700), (3000, 2000), (10000, 9000),  # exact p-value
         (12000, 11000), (20000, 100), (15000, 60), (15000, 400)]  # Kolmogorov distribution


@pytest.mark.parametrize("n_ref,n_cur", SIZES)
@pytest.mark.parametrize("scenario", ["same", "shift", "scale", "missing_burst", "ties"])
def test_numeric_statistics_equal_scipy(tmp_path, scenario, n_ref, n_cur):
    rng = np.random.default_rng(seed(scenario, n_ref, n_cur))
    reference, current = draw(rng, scenario, n_ref, n_cur)
    got = probe(tmp_path, "numeric", reference, current)
    ref, cur = reference[np.isfinite(reference)], current[np.isfinite(current)]
    assert got["reference_missing"] == len(reference) - len(ref)
    assert got["current_missing"] == len(current) - len(cur)

    ks = stats.ks_2samp(ref, cur)  # method='auto'
    assert got["ks"]["exact"] == (max(len(ref), len(cur)) <= 10000)
    assert got["ks"]["statistic"] == pytest.approx(ks.statistic, **STATISTIC)
    assert got["ks"]["p_value"] == pytest.approx(ks.pvalue, **P_VALUE)

    w = stats.wasserstein_distance(ref, cur)
    assert got["wasserstein"]["distance"] == pytest.approx(w, **STATISTIC)
    assert got["wasserstein"]["normalised"] == pytest.approx(w / max(np.std(ref), 0.001),
                                                             **STATISTIC)

    ref_bins, cur_bins = evidently_bins(ref, cur)
    assert got["bins"]["reference"] == list(ref_bins)
    assert got["bins"]["current"] == list(cur_bins)
    check_count_statistics(got, ref_bins, cur_bins)


@pytest.mark.parametrize("n_ref,n_cur", [(500, 300), (5000, 4000)])
@pytest.mark.parametrize("values", [2, 4])
def test_numeric_column_with_few_values_as_categories(tmp_path, values, n_ref, n_cur):
    rng = np.random.default_rng(values * n_ref)
    reference = rng.integers(0, values, n_ref).astype(float)
    current = rng.binomial(values - 1, 0.6, n_cur).astype(float)
    got = probe(tmp_path, "numeric", reference, current)
    keys = np.union1d(reference, current)
    ref_counts = [np.sum(reference == k) for k in keys]
    cur_counts = [np.sum(current == k) for k in keys]
    assert got["reference_counts"] == ref_counts and got["current_counts"] == cur_counts
    check_count_statistics(got, ref_counts, cur_counts)
    check_categorical_tests(got, ref_counts, cur_counts)


CATEGORIES = ["cash", "card", "transfer", "cheque", "crypto"]


@pytest.mark.parametrize("scenario", ["same", "shift", "new_categories", "lost_category",
                                      "binary", "binary_shift"])
@pytest.mark.parametrize("n_ref,n_cur", [(300, 200), (50000, 1000)])
def test_categorical_statistics_equal_scipy(tmp_path, scenario, n_ref, n_cur):
    rng = np.random.default_rng(seed(scenario, n_ref))
    names = CATEGORIES[:2] if scenario.startswith("binary") else CATEGORIES[:4]
    shares = np.full(len(names), 1 / len(names))
    reference = dict(zip(names, rng.multinomial(n_ref, shares)))
    current_shares = shares
    if scenario in ("shift", "binary_shift"):
        current_shares = np.linspace(1, 2, len(names)) / np.linspace(1, 2, len(names)).sum()
    current = dict(zip(names, rng.multinomial(n_cur, current_shares)))
    if scenario == "new_categories":
        current.update({"crypto": 25, "voucher": 3})
    if scenario == "lost_category":
        current["cash"] = 0
    got = probe(tmp_path, "categorical", reference, current)
    keys = sorted(set(reference) | set(current))
    ref_counts = [reference.get(k, 0) for k in keys]
    cur_counts = [current.get(k, 0) for k in keys]
    assert got["categories"] == keys
    check_count_statistics(got, ref_counts, cur_counts)
    check_categorical_tests(got, ref_counts, cur_counts)


@pytest.mark.parametrize("current_value", [3.0, 4.5])
def test_constant_columns_equal_scipy(tmp_path, current_value):
    reference, current = np.full(40, 3.0), np.full(35, current_value)
    got = probe(tmp_path, "numeric", reference, current)
    ks = stats.ks_2samp(reference, current)
    assert got["ks"]["statistic"] == pytest.approx(ks.statistic, **STATISTIC)
    assert got["ks"]["p_value"] == pytest.approx(ks.pvalue, **P_VALUE)
    w = stats.wasserstein_distance(reference, current)
    assert got["wasserstein"]["distance"] == pytest.approx(w, **STATISTIC)
    assert got["wasserstein"]["normalised"] == pytest.approx(w / 0.001, **STATISTIC)


def test_a_window_of_missing_values_only_is_refused(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_text("numeric\nreference 1.0 2.0\ncurrent nan inf\n")
    run = subprocess.run([str(PROBE), str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "finite value" in json.loads(run.stdout)["error"]
