"""The Python PyTorch baseline of training_bench: the same MLP, optimizer, batch size, threads and
data (float32 rows written by training_bench), trained the way a data scientist would write it,
timed over the training loop alone. Prints one JSON line: {"samples_per_second": ...}.

    /usr/bin/python3 train_pytorch.py FEATURES.f32 LABELS.f32 ROWS WIDTH CLASSES BATCH EPOCHS THREADS
"""
import json
import sys
import time

import torch


def main():
    x_path, y_path = sys.argv[1], sys.argv[2]
    rows, width, classes, batch, epochs, threads = map(int, sys.argv[3:9])
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    x = torch.from_file(x_path, size=rows * width, dtype=torch.float32).view(rows, width)
    y = torch.from_file(y_path, size=rows, dtype=torch.float32)
    # Standardised like the C++ side (its preprocessing runs before its clock starts too).
    x = (x - x.mean(0)) / x.std(0, unbiased=False).clamp_min(1e-6)
    outputs = 1 if classes == 2 else classes
    model = torch.nn.Sequential(torch.nn.Linear(width, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, outputs))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    if classes == 2:
        loss_fn = torch.nn.BCEWithLogitsLoss()
        target = y
    else:
        loss_fn = torch.nn.CrossEntropyLoss()
        target = y.long()
    model.train()
    start = time.perf_counter()
    seen = 0
    for _ in range(epochs):
        order = torch.randperm(rows)
        for b in range(0, rows, batch):
            idx = order[b:b + batch]
            optimizer.zero_grad()
            out = model(x.index_select(0, idx))
            if classes == 2:
                out = out.squeeze(1)
            loss = loss_fn(out, target.index_select(0, idx))
            loss.backward()
            optimizer.step()
            loss.item()  # As the C++ loop does, to catch a diverging loss.
            seen += idx.numel()
    seconds = time.perf_counter() - start
    print(json.dumps({"samples_per_second": seen / seconds, "seconds": seconds}))


if __name__ == "__main__":
    main()
