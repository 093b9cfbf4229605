"""The trainer end to end on Fashion-MNIST, through the real services: the 60,000 training images
ingested into the feature store as a 784-float vector feature, a run submitted to the trainer
(an MLP 256-128, dropout 0.2, batch 128, up to 15 epochs with early stopping) whose labels are
the images' classes, and the version it registers scored on the 10,000 test images from raw
pixels. Prints the test accuracy (goal: at least 0.88) and the share of the run spent building
the training set from the feature store (goal: under 20%).

    /usr/bin/python3 tools/bench/trainer_e2e_bench.py [--bin_dir build/bin] [--epochs 15] [--small]

Exits non-zero when a check fails: every image acknowledged by the feature store, the run
succeeded, and (with --small) the registered module scores well above chance. --small: the first
3,000 training images, 2 epochs, scored on 2,000 test images, which must reach accuracy 0.5
(chance is 0.1): the checks alone, in seconds (tools/bench/run_small).

Needs Debian's dataset-fashion-mnist and python3-torch (to score the module). Starts its own
`fabrique up` on free loopback ports in a temporary directory, and stops it; calls it as a squad
would, through the Python client (clients/python): TLS, and a token minted from the local
authority for a data scientist and data engineer of the "vision" squad.
"""
import argparse
import gzip
import io
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

REPO = pathlib.Path(__file__).resolve().parents[2]
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_idx(name, header_ints):
    with gzip.open(FASHION / name) as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=4 * header_ints)


def stubs(out):
    from grpc_tools import protoc
    out.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(REPO / "protos")) for p in (REPO / "protos").rglob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    assert protoc.main(["protoc", f"-I{REPO / 'protos'}", f"-I{include}", f"--python_out={out}",
                        f"--grpc_python_out={out}", *protos]) == 0
    sys.path.insert(0, str(out))
    sys.path.insert(0, str(REPO / "clients" / "python"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin_dir", default=str(REPO / "build" / "bin"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--small", action="store_true",
                        help="3,000 training images, 2 epochs, 2,000 test images")
    args = parser.parse_args()
    train_images, test_images = (3000, 2000) if args.small else (None, None)
    if args.small:
        args.epochs = 2
    work = tempfile.mkdtemp(prefix="fabrique-e2e-")
    stubs(pathlib.Path(work) / "stubs")
    import fabrique
    from fabrique.v1 import common_pb2 as c, features_pb2 as f, features_pb2_grpc
    from fabrique.v1 import registry_pb2 as r, registry_pb2_grpc
    from fabrique.v1 import trainer_pb2 as t, trainer_pb2_grpc

    up = subprocess.Popen([f"{args.bin_dir}/fabrique", "up", f"--data_dir={work}/data",
                           "--grpc_base_port=0", "--metrics_base_port=-1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoints = pathlib.Path(work) / "data" / "endpoints.tsv"
        deadline = time.monotonic() + 120
        while not endpoints.exists():
            if up.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"fabrique up did not start (exit code {up.poll()})")
            time.sleep(0.1)
        data_dir = f"{work}/data"
        token = fabrique.mint_token(data_dir, user="bench",
                                    groups=["vision:data-scientist", "vision:data-engineer"])
        fs = features_pb2_grpc.FeatureStoreStub(fabrique.open_channel(
            "features", data_dir=data_dir, token=token,
            options=[("grpc.max_send_message_length", 64 << 20)]))
        registry = registry_pb2_grpc.ModelRegistryStub(fabrique.open_channel(
            "registry", data_dir=data_dir, token=token,
            options=[("grpc.max_receive_message_length", 64 << 20)]))
        trainer = trainer_pb2_grpc.TrainerStub(
            fabrique.open_channel("trainer", data_dir=data_dir, token=token))

        images = read_idx("train-images-idx3-ubyte.gz", 4).reshape(-1, 784)[:train_images]
        labels = read_idx("train-labels-idx1-ubyte.gz", 2)[:train_images]
        n = len(labels)
        fs.ApplyEntity(f.ApplyEntityRequest(entity=f.Entity(
            name="image", join_key="image_id", owner_squad="vision")), timeout=10)
        spec = f.FeatureGroupSpec(name="fashion", entity="image", owner_squad="vision")
        spec.features.add(name="pixels", type=c.FEATURE_TYPE_FLOAT_VECTOR)
        fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=10)
        t0 = 1_790_000_000_000_000
        keys = [f"img{i}" for i in range(n)]
        start = time.perf_counter()

        def batches():
            for b in range(0, n, 5000):
                rows = f.RowBatch(entity_keys=keys[b:b + 5000],
                                  event_time_unix_micros=list(range(t0 + b, t0 + min(n, b + 5000))))
                column = rows.columns.add(feature=c.FeatureRef(feature="pixels"))
                vectors = column.values.float_vector_values
                for image in images[b:b + 5000]:
                    vectors.values.add().values.extend((image / 255.0).tolist())
                yield f.IngestRequest(group="fashion", batch_id=f"fashion-{b}", rows=rows)

        reply = fs.Ingest(batches(), timeout=600)
        assert reply.rows_written == n, reply
        print(f"ingested {n} images as 784-float vectors in {time.perf_counter() - start:.1f} s")

        run_spec = c.RunSpec(
            model_name="fashion-mlp", use_case_id="uc-fashion",
            features=[c.FeatureRef(group="fashion", feature="pixels")],
            label=c.LabelSource(events=c.LabelEventBatch(
                entity_keys=[c.EntityKeys(entity="image", keys=keys)],
                event_time_unix_micros=[t0 + n + i for i in range(n)],
                labels=c.ValueColumn(int64_values=c.Int64List(values=labels.tolist())))),
            task=c.TASK_MULTICLASS_CLASSIFICATION, num_classes=10, epochs=args.epochs,
            batch_size=128, early_stopping_patience=3, seed=7, device=c.DEVICE_CPU, threads=2)
        run_spec.family.mlp.hidden_sizes.extend([256, 128])
        run_spec.family.mlp.dropout = 0.2
        run_spec.optimizer.learning_rate = 1e-3
        run_spec.split.random.validation_fraction = 0.1
        run_spec.split.random.seed = 3
        run = trainer.SubmitRun(t.SubmitRunRequest(spec=run_spec), timeout=60)
        final = None
        for event in trainer.WatchRun(t.WatchRunRequest(run_id=run.run_id), timeout=3600):
            if event.HasField("progress") and event.epoch_end:
                p = event.progress
                print(f"  epoch {p.epoch}: loss {p.train_loss:.4f}, validation "
                      f"{p.validation_metric.name} {p.validation_metric.value:.4f}, "
                      f"{p.samples_per_second:.0f} samples/s", flush=True)
            if event.HasField("final_run"):
                final = event.final_run
        assert final.state == t.RUN_STATE_SUCCEEDED, final.failure_reason
        spent = {}
        for before, after in zip(final.history, final.history[1:]):
            seconds = (after.time.ToNanoseconds() - before.time.ToNanoseconds()) / 1e9
            spent[t.RunState.Name(before.to_state)] = seconds
        total = (final.end_time.ToNanoseconds() - final.create_time.ToNanoseconds()) / 1e9
        build = spent.get("RUN_STATE_BUILDING_DATASET", 0)

        version = registry.GetVersion(r.GetVersionRequest(ref=c.ModelRef(
            model="fashion-mlp", version=final.registered_version.version)), timeout=10)
        module_sha = next(a.artifact.sha256 for a in version.artifacts if a.name == "model.pt")
        blob = b"".join(part.chunk for part in registry.DownloadArtifact(
            r.DownloadArtifactRequest(sha256=module_sha), timeout=120))
        module = torch.jit.load(io.BytesIO(blob))
        test_x = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz", 4).reshape(-1, 784)
                                  [:test_images].astype(np.float32) / 255.0)
        test_y = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz", 2)[:test_images]
                                  .astype(np.int64))
        with torch.no_grad():
            probabilities = module(test_x, [[] for _ in range(len(test_y))])
        accuracy = (probabilities.argmax(1) == test_y).float().mean().item()
        print(f"\nrun {final.run_id}: {total:.1f} s in all; "
              + ", ".join(f"{k.replace('RUN_STATE_', '').lower()} {v:.1f} s" for k, v in spent.items()))
        print(f"building the training set: {build:.1f} s = {100 * build / total:.1f}% of the run "
              f"(goal < 20%: {'met' if build / total < 0.2 else 'NOT met'})")
        print(f"test accuracy of the registered module, from raw pixels: {accuracy:.4f} on "
              f"{len(test_y)} images (goal >= 0.88: {'met' if accuracy >= 0.88 else 'NOT met'})")
        if args.small and accuracy < 0.5:
            sys.exit(f"the registered module scores {accuracy:.4f}: no better than a broken model")
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=120)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
