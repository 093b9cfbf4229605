#!/usr/bin/python3
"""The pandas baseline of features_aggregate_bench: windowed aggregates as of each label's time.

Reads the raw little-endian files written by features_aggregate_bench (not timed):
  events:  per row  int64 entity, int64 event time (us), float64 amount (NaN = null)
  labels:  per row  int64 entity, int64 event time (us), int64 label
then times the feature store's reference computation of count, sum and mean of the amount over
windows of k tiles of d microseconds (the README's window semantics: at as-of time T, with
S = floor(T/d)*d, the events with time in [S - k*d, T]): per entity, the events and one probe
row per label (amount NaN), sorted by (time, probe last), tile_time = floor(time/d)*d, then
groupby(entity).rolling("(k+1)*d", on=tile_time, closed="right") over the amount, read at the
probes; since a row sees only the rows up to itself, the probe at T sees exactly the events with
tile_time in (S-(k+1)d, S] and time <= T. Prints one JSON object on stdout:
  wall_s, cpu_s   the timed phase (wall, process CPU)
  peak_mib        peak resident memory (VmHWM) during the timed phase, reset just before it, so
                  it counts the loaded frames plus what the computation allocates
  maxrss_mib      ru_maxrss of the whole process (loading and hashing included)
  sha256          over the canonical bytes of libs/features/storage/content_hash.h (not timed):
                  per label, in input order, its index, key, time and label, then per window
                  count (INT64), then per window sum, then per window mean (DOUBLE, null when
                  the window holds no value)
  rows            labels
"""

import argparse
import hashlib
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

# The join's baseline, beside this file: the same memory probes and key bytes.
from pit_join_pandas import key_bytes, reset_peak_rss, vm_hwm_mib


def load(events_path, labels_path):
    raw = np.fromfile(events_path, dtype=np.dtype(
        [("entity", "<i8"), ("time", "<i8"), ("amount", "<f8")]))
    events = pd.DataFrame({n: raw[n] for n in ["entity", "time", "amount"]})
    del raw
    raw = np.fromfile(labels_path, dtype=np.dtype(
        [("entity", "<i8"), ("time", "<i8"), ("label", "<i8")]))
    labels = pd.DataFrame({n: raw[n] for n in ["entity", "time", "label"]})
    return events, labels


def aggregate(events, labels, tile_micros, windows):
    """Per label, in input order: {window: (count, sum, mean)} as numpy arrays."""
    probes = pd.DataFrame({"entity": labels["entity"].to_numpy(), "time": labels["time"].to_numpy(),
                           "amount": np.nan, "probe": np.int8(1),
                           "idx": np.arange(len(labels), dtype=np.int64)})
    rows = pd.concat([events.assign(probe=np.int8(0), idx=np.int64(-1)), probes],
                     ignore_index=True)
    rows.sort_values(["entity", "time", "probe"], kind="stable", inplace=True, ignore_index=True)
    rows["tile_time"] = pd.to_datetime(rows["time"] // tile_micros * tile_micros, unit="us")
    is_probe = rows["probe"].to_numpy() == 1
    order = rows["idx"].to_numpy()[is_probe]
    out = {}
    grouped = rows.groupby("entity", sort=True)
    for k in windows:
        rolling = grouped.rolling(pd.Timedelta(microseconds=(k + 1) * tile_micros),
                                  on="tile_time", closed="right")["amount"]
        # groupby(sort=True) over rows sorted by entity keeps their order.
        counts = rolling.count().to_numpy()[is_probe]
        sums = rolling.sum().to_numpy()[is_probe]
        means = rolling.mean().to_numpy()[is_probe]
        result = [np.empty(len(labels)), np.empty(len(labels)), np.empty(len(labels))]
        for array, values in zip(result, (counts, sums, means)):
            array[order] = values
        result[0] = np.nan_to_num(result[0], nan=0.0).astype(np.int64)
        out[k] = result
    return out


def content_sha256(labels, result, windows, block_rows=1 << 17):
    """SHA-256 over content_hash.h's canonical bytes, a block of rows at a time (see above)."""
    sha = hashlib.sha256()
    columns = ([("int64", result[k][0]) for k in windows] +
               [("double", result[k][1]) for k in windows] +
               [("double", result[k][2]) for k in windows])
    width = 41 + 9 * len(columns)
    for begin in range(0, len(labels), block_rows):
        end = min(len(labels), begin + block_rows)
        n = end - begin
        rows = np.zeros((n, width), dtype=np.uint8)
        rows[:, 0:8] = np.arange(begin, end, dtype="<i8").view(np.uint8).reshape(n, 8)
        rows[:, 8:12] = np.array([12], dtype="<u4").view(np.uint8)
        rows[:, 12:24] = key_bytes(labels["entity"].to_numpy()[begin:end])
        rows[:, 24:32] = labels["time"].to_numpy("<i8")[begin:end].view(np.uint8).reshape(n, 8)
        rows[:, 33:41] = labels["label"].to_numpy("<i8")[begin:end].view(np.uint8).reshape(n, 8)
        keep = np.ones((n, width), dtype=bool)
        for c, (kind, values) in enumerate(columns):
            at = 41 + 9 * c
            part = values[begin:end]
            if kind == "int64":
                rows[:, at + 1:at + 9] = part.astype("<i8").view(np.uint8).reshape(n, 8)
                continue
            null = np.isnan(part)
            rows[:, at] = null
            rows[:, at + 1:at + 9] = part.astype("<f8").view(np.uint8).reshape(n, 8)
            keep[:, at + 1:at + 9] = ~null[:, None]
        sha.update(rows[keep].tobytes())
    return sha.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--tile_micros", type=int, default=60_000_000)
    parser.add_argument("--windows", default="60,1440", help="window lengths in tiles")
    args = parser.parse_args()
    windows = [int(k) for k in args.windows.split(",")]

    events, labels = load(args.events, args.labels)
    reset_peak_rss()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = aggregate(events, labels, args.tile_micros, windows)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = vm_hwm_mib()
    del events
    digest = content_sha256(labels, result, windows)
    json.dump({"wall_s": wall, "cpu_s": cpu, "peak_mib": peak,
               "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
               "sha256": digest, "rows": len(labels)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
