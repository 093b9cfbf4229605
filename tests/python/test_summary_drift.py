"""Drift computed from summaries (libs/monitoring/summary_drift.h) against scipy on the raw
values: while the sketches hold every value (small windows) every test equals scipy's to 1e-9;
once they compact (large windows), each numeric statistic stays within the error bound it
states of scipy's exact value, and categories stay exact. Windows drift as live data does:
normal shifts, scale changes, new categories, bursts of missing values."""

import json
import subprocess

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from conftest import BIN_DIR
from test_drift_statistics import P_VALUE, STATISTIC, draw, evidently_bins, fill_zeros, seed

PROBE = BIN_DIR / "tests" / "summary_drift_probe"


def probe(tmp_path, header, reference, current):
    path = tmp_path / "windows.txt"
    if header.startswith("numeric"):
        line = lambda name, xs: name + " " + " ".join(repr(float(x)) for x in xs)
    else:
        line = lambda name, counts: name + " " + " ".join(f"{k}={v}" for k, v in counts.items())
    path.write_text("\n".join([header, line("reference", reference), line("current", current)]))
    run = subprocess.run([str(PROBE), str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)


def exact_statistics(ref, cur):
    """Each test's statistic (and p-value) on the raw values, as Evidently computes them."""
    ks = stats.ks_2samp(ref, cur)
    ref_bins, cur_bins = evidently_bins(ref, cur)
    r, c = ref_bins / ref_bins.sum(), cur_bins / cur_bins.sum()
    rz, cz = fill_zeros(r), fill_zeros(c)
    js = distance.jensenshannon(r, c)
    return {
        "ks": (ks.statistic, ks.pvalue),
        "wasserstein": (stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001), None),
        "psi": (np.sum((rz - cz) * np.log(rz / cz)), None),
        "jensenshannon": (js, None),
    }


def finite(xs):
    return xs[np.isfinite(xs)]


@pytest.mark.parametrize("n_ref,n_cur", [(40, 35), (1000, 700), (3000, 2000), (4000, 60)])
@pytest.mark.parametrize("scenario", ["same", "shift", "scale", "missing_burst", "ties"])
def test_small_windows_equal_scipy(tmp_path, scenario, n_ref, n_cur):
    rng = np.random.default_rng(seed("summary", scenario, n_ref, n_cur))
    reference, current = draw(rng, scenario, n_ref, n_cur)
    got = probe(tmp_path, "numeric", reference, current)
    assert got["reference_exact"] and got["current_exact"]
    ref, cur = finite(reference), finite(current)
    if min(len(ref), len(cur)) < 30:  # the default min_rows
        assert not got["auto"]["enough_data"] and not got["auto"]["drifted"]
        return
    for name, (statistic, p_value) in exact_statistics(ref, cur).items():
        assert got[name]["error_bound"] == 0
        assert got[name]["statistic"] == pytest.approx(statistic, **STATISTIC), name
        if p_value is not None:
            assert got[name]["p_value"] == pytest.approx(p_value, **P_VALUE)
        assert got[name]["reference_missing"] == len(reference) - len(ref)
        assert got[name]["current_missing"] == len(current) - len(cur)
    want_auto = "ks" if len(ref) <= 1000 else "wasserstein"
    assert got["auto"]["test"] == want_auto


@pytest.mark.parametrize("n_ref,n_cur", [(200000, 150000), (100000, 20000)])
@pytest.mark.parametrize("scenario", ["same", "shift", "scale", "missing_burst"])
def test_sketched_statistics_within_their_bound_of_scipy(tmp_path, scenario, n_ref, n_cur):
    rng = np.random.default_rng(seed("sketched", scenario, n_ref, n_cur))
    reference, current = draw(rng, scenario, n_ref, n_cur)
    got = probe(tmp_path, "numeric", reference, current)
    assert not got["reference_exact"] and not got["current_exact"]
    ref, cur = finite(reference), finite(current)
    for name, (statistic, _) in exact_statistics(ref, cur).items():
        bound = got[name]["error_bound"]
        assert 0 < bound < np.inf, name
        assert abs(got[name]["statistic"] - statistic) <= bound, name
        assert got[name]["reference_rows"] == len(ref)
        # NaN is counted exactly; ±inf (missing too) is a value to the sketch, whose count of
        # them is within its rank error once it compacts.
        missing = len(current) - len(cur)
        assert abs(got[name]["current_missing"] - missing) <= 0.0086 * len(current)
        assert got[name]["current_missing"] == missing or np.isinf(current).any()
    assert got["auto"]["test"] == "wasserstein"
    # Normal shifts of 0.3 and scale changes of 1.5 are found; the same distribution is not.
    assert got["auto"]["drifted"] == (scenario in ("shift", "scale"))
    if scenario in ("shift", "scale"):
        assert got["ks"]["p_value"] < 1e-6


@pytest.mark.parametrize("scenario", ["same", "shift", "scale"])
def test_a_profile_with_bins_only_within_its_bound(tmp_path, scenario):
    rng = np.random.default_rng(seed("bins", scenario))
    reference, current = draw(rng, scenario, 50000, 3000)
    got = probe(tmp_path, "numeric bins", reference, current)
    for name, (statistic, _) in exact_statistics(reference, current).items():
        assert abs(got[name]["statistic"] - statistic) <= got[name]["error_bound"], name


@pytest.mark.parametrize("n_ref,n_cur", [(500, 300), (50000, 40000)])
@pytest.mark.parametrize("values", [2, 4])
def test_few_values_as_categories(tmp_path, values, n_ref, n_cur):
    rng = np.random.default_rng(values * n_ref)
    reference = rng.integers(0, values, n_ref).astype(float)
    current = rng.binomial(values - 1, 0.6, n_cur).astype(float)
    got = probe(tmp_path, "numeric", reference, current)
    keys = np.union1d(reference, current)
    ref_counts = np.array([np.sum(reference == k) for k in keys], float)
    cur_counts = np.array([np.sum(current == k) for k in keys], float)
    r, c = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    js = distance.jensenshannon(r, c)
    assert got["auto"]["kind"] == ("binary" if values == 2 else "categorical")
    assert abs(got["jensenshannon"]["statistic"] - js) <= got["jensenshannon"]["error_bound"] + 1e-12
    if got["reference_exact"] and got["current_exact"]:
        assert got["jensenshannon"]["statistic"] == pytest.approx(js, **STATISTIC)
        chi = stats.chisquare(cur_counts, fill_zeros(r) / fill_zeros(r).sum() * cur_counts.sum())
        assert got["chisquare"]["statistic"] == pytest.approx(chi.statistic, **STATISTIC)
        assert got["chisquare"]["p_value"] == pytest.approx(chi.pvalue, **P_VALUE)
    else:
        assert got["auto"]["test"] == "jensenshannon"
        assert got["chisquare"]["error_bound"] == np.inf


CATEGORIES = ["cash", "card", "transfer", "cheque", "crypto"]


@pytest.mark.parametrize("scenario", ["same", "shift", "new_categories", "binary_shift"])
@pytest.mark.parametrize("n_ref,n_cur", [(300, 200), (20000, 1000)])
def test_categories_equal_scipy(tmp_path, scenario, n_ref, n_cur):
    rng = np.random.default_rng(seed("summary", scenario, n_ref))
    names = CATEGORIES[:2] if scenario.startswith("binary") else CATEGORIES[:4]
    shares = np.full(len(names), 1 / len(names))
    reference = dict(zip(names, rng.multinomial(n_ref, shares)))
    current_shares = shares
    if scenario.endswith("shift"):
        current_shares = np.linspace(1, 2, len(names)) / np.linspace(1, 2, len(names)).sum()
    current = dict(zip(names, rng.multinomial(n_cur, current_shares)))
    if scenario == "new_categories":
        current.update({"crypto": 25, "voucher": 3})
    got = probe(tmp_path, "categorical", reference, current)
    keys = sorted(set(reference) | set(current))
    r = np.array([reference.get(k, 0) for k in keys], float)
    c = np.array([current.get(k, 0) for k in keys], float)
    if len(keys) > 2:
        chi = stats.chisquare(c, fill_zeros(r / r.sum()) / fill_zeros(r / r.sum()).sum() * c.sum())
        assert got["chisquare"]["statistic"] == pytest.approx(chi.statistic, **STATISTIC)
        assert got["chisquare"]["p_value"] == pytest.approx(chi.pvalue, **P_VALUE)
    rs, cs = r / r.sum(), c / c.sum()
    rz, cz = fill_zeros(rs), fill_zeros(cs)
    assert got["psi"]["statistic"] == pytest.approx(np.sum((rz - cz) * np.log(rz / cz)),
                                                    **STATISTIC)
    for name in ("psi", "jensenshannon", "chisquare", "auto"):
        if "error" not in got[name]:
            assert got[name]["error_bound"] == 0
    assert "error" in got["ks"] and "error" in got["wasserstein"]
    assert got["auto"]["test"] == ("z" if len(keys) == 2 and n_ref <= 1000 else
                                   "chisquare" if n_ref <= 1000 else "jensenshannon")
