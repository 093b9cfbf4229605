"""The Python side of tools/bench/drift_bench: a loop of scipy.stats.ks_2samp over the columns
that drift_bench wrote under --dir (raw little-endian float64, column after column), timed
--repeats times. Writes each column's statistic and p-value to DIR/scipy.f64 and prints, last,
the median time in seconds."""

import argparse
import pathlib
import sys
import time

import numpy as np
import scipy
from scipy import stats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--columns", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--current_rows", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = pathlib.Path(args.dir)
    # Read into memory first, so that the loop times the test, not the disk.
    reference = np.fromfile(folder / "reference.f64", dtype="<f8").reshape(args.columns,
                                                                           args.rows)
    current = np.fromfile(folder / "current.f64", dtype="<f8").reshape(args.columns,
                                                                       args.current_rows)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        results = [stats.ks_2samp(reference[c], current[c]) for c in range(args.columns)]
        times.append(time.perf_counter() - start)
    np.array([[r.statistic, r.pvalue] for r in results], dtype="<f8").tofile(folder / "scipy.f64")
    print(f"scipy {scipy.__version__}, numpy {np.__version__}, Python "
          f"{sys.version.split()[0]}: repeats {', '.join(f'{t:.2f} s' for t in times)}")
    print(sorted(times)[len(times) // 2])


if __name__ == "__main__":
    main()
