#!/usr/bin/python3
"""The pandas baseline of features_join_bench: the same point-in-time join by merge_asof.

Reads the raw little-endian files written by features_join_bench (not timed):
  history: per row  int64 entity, int64 event time (us), FEATURES x float32 (NaN = null)
  labels:  per row  int64 entity, int64 event time (us), int64 label
then times what pandas needs for the join: sorting both sides by time (merge_asof requires it),
merge_asof(by entity, on time, backward, tolerance = TTL inclusive, exact matches allowed) and
restoring the labels' input order. Prints one JSON object on stdout:
  wall_s          the timed phase
  cpu_s           process CPU time of the timed phase
  join_peak_mib   peak resident memory (VmHWM) during the timed phase, reset just before it, so
                  it counts the loaded input frames plus what the join allocates
  maxrss_mib      ru_maxrss of the whole process (loading and hashing included)
  sha256          over the canonical bytes of libs/features/storage/content_hash.h (not timed)
  rows            label rows joined
"""

import argparse
import hashlib
import json
import resource
import sys
import time

import numpy as np
import pandas as pd


def vm_hwm_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def reset_peak_rss():
    # Linux >= 4.0: "5" resets VmHWM to the current RSS, so the join phase's peak is measurable.
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def load(history_path, labels_path, features):
    names = ["f%d" % f for f in range(features)]
    history_type = np.dtype(
        [("entity", "<i8"), ("time", "<i8")] + [(n, "<f4") for n in names])
    raw = np.fromfile(history_path, dtype=history_type)
    history = pd.DataFrame({n: raw[n] for n in ["entity", "time"] + names})
    del raw
    label_type = np.dtype([("entity", "<i8"), ("time", "<i8"), ("label", "<i8")])
    raw = np.fromfile(labels_path, dtype=label_type)
    labels = pd.DataFrame({"entity": raw["entity"], "time": raw["time"],
                           "label": raw["label"]})
    return history, labels, names


def join(history, labels, ttl_micros):
    left = labels.assign(idx=np.arange(len(labels), dtype=np.int64))
    left = left.sort_values("time", kind="stable")
    right = history.sort_values("time", kind="stable")
    joined = pd.merge_asof(left, right, on="time", by="entity", direction="backward",
                           tolerance=ttl_micros, allow_exact_matches=True)
    return joined.sort_values("idx", kind="stable").reset_index(drop=True)


def key_bytes(entities):
    """The 12 bytes of "cust%08d" per entity id (ids below 10^8), as a (n, 12) uint8 array."""
    out = np.empty((len(entities), 12), dtype=np.uint8)
    out[:, :4] = np.frombuffer(b"cust", dtype=np.uint8)
    rest = entities.astype(np.int64)
    for digit in range(11, 3, -1):
        out[:, digit] = ord("0") + rest % 10
        rest //= 10
    return out


def content_sha256(joined, names, block_rows=1 << 17):
    """SHA-256 over content_hash.h's canonical bytes, built a block of rows at a time.

    Per row: int64 index, uint32 key length (12) + key, int64 time, label (0 + int64), then per
    feature 1 (null) or 0 + float32. Each block is laid out as a fixed-width matrix and the value
    bytes of null features are masked out, which keeps row-major order.
    """
    sha = hashlib.sha256()
    width = 41 + 5 * len(names)
    for begin in range(0, len(joined), block_rows):
        part = joined.iloc[begin:begin + block_rows]
        n = len(part)
        rows = np.zeros((n, width), dtype=np.uint8)
        rows[:, 0:8] = part["idx"].to_numpy("<i8").view(np.uint8).reshape(n, 8)
        rows[:, 8:12] = np.array([12], dtype="<u4").view(np.uint8)
        rows[:, 12:24] = key_bytes(part["entity"].to_numpy())
        rows[:, 24:32] = part["time"].to_numpy("<i8").view(np.uint8).reshape(n, 8)
        rows[:, 32] = 0
        rows[:, 33:41] = part["label"].to_numpy("<i8").view(np.uint8).reshape(n, 8)
        keep = np.ones((n, width), dtype=bool)
        for f, name in enumerate(names):
            values = part[name].to_numpy("<f4")
            null = np.isnan(values)
            at = 41 + 5 * f
            rows[:, at] = null
            rows[:, at + 1:at + 5] = values.view(np.uint8).reshape(n, 4)
            keep[:, at + 1:at + 5] = ~null[:, None]
        sha.update(rows[keep].tobytes())
    return sha.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--ttl_micros", type=int, required=True)
    args = parser.parse_args()

    history, labels, names = load(args.history, args.labels, args.features)
    reset_peak_rss()
    start, cpu_start = time.perf_counter(), time.process_time()
    joined = join(history, labels, args.ttl_micros)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    join_peak = vm_hwm_mib()
    del history
    digest = content_sha256(joined, names)
    json.dump({"wall_s": wall, "cpu_s": cpu, "join_peak_mib": join_peak,
               "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
               "sha256": digest, "rows": len(joined)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
