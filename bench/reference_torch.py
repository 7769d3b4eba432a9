"""The reference: a plain, hand-written PyTorch loop doing what
`tabnet train DATA --target T --layers 512,512,512 --batch-size 256 --epochs N` does
(read CSV, 80/20 split, standard scaling, MLP, Adam, MAE, validation every epoch).

Usage: python bench/reference_torch.py DATA TARGET EPOCHS [LAYERS] [BATCH]
"""

import sys
import time

import pandas as pd
import torch
from torch import nn


def main() -> None:
    path, target, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    widths = [int(w) for w in (sys.argv[4] if len(sys.argv) > 4 else "512,512,512").split(",")]
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    torch.manual_seed(0)
    frame = pd.read_csv(path)
    train = frame.sample(frac=0.8, random_state=0)
    valid = frame.drop(train.index)
    features = [c for c in frame.columns if c != target]
    mean, std = train[features].mean(), train[features].std(ddof=0).replace(0, 1)
    y_mean, y_std = train[target].mean(), train[target].std(ddof=0)

    def tensors(part):
        x = torch.tensor(((part[features] - mean) / std).to_numpy(), dtype=torch.float32)
        y = torch.tensor(((part[target] - y_mean) / y_std).to_numpy(), dtype=torch.float32)
        return x, y

    x_train, y_train = tensors(train)
    x_valid, y_valid = tensors(valid)
    layers, width_in = [], x_train.shape[1]
    for width in widths:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    model = nn.Sequential(*layers, nn.Linear(width_in, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.L1Loss()
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x_train))
        for start in range(0, len(x_train), batch):
            index = order[start : start + batch]
            loss = loss_fn(model(x_train[index]).squeeze(1), y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_valid).squeeze(1), y_valid).item()
    seconds = time.perf_counter() - started
    print(f"reference: {epochs} epochs in {seconds:.3f} s, last val_loss {val_loss:.4f}")


if __name__ == "__main__":
    main()
