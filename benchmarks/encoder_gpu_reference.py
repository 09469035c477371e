"""GPU reference for the encoder option, run by hand where PyTorch and transformers are installed
(the lent GPU machine has no TensorFlow); not part of the product or its tests.

Fine-tunes all-MiniLM-L6-v2 (mean pooling + linear head, the architecture of lexflow's encoder
option) on cuad_clauses, train.csv -> test.csv, with lexflow's `full` recipe and longer ones.
Expects, next to this file: train.csv, test.csv and model/ (the checkpoint). Writes
$OUT/gpu_encoder.json (BENCHMARKS.md, "Pretrained encoder")."""

import json
import os
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import AutoTokenizer, BertModel

OUT = os.environ.get("OUT", "/tmp")
D = os.path.dirname(os.path.abspath(__file__))
train, test = pd.read_csv(f"{D}/train.csv"), pd.read_csv(f"{D}/test.csv")
labels = sorted(train.label.unique())
index = {name: i for i, name in enumerate(labels)}
ytr = np.array([index[name] for name in train.label])
yte = np.array([index.get(name, -1) for name in test.label])
tok = AutoTokenizer.from_pretrained(f"{D}/model")
print("tokens:", tok.convert_ids_to_tokens(tok(train.text[0], max_length=16, truncation=True)["input_ids"]), flush=True)
dev = torch.device("cuda")
results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "runs": []}


class Clf(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bert = BertModel.from_pretrained(f"{D}/model", dtype=torch.float32)
        self.head = torch.nn.Linear(self.bert.config.hidden_size, len(labels))

    def forward(self, ids: Any, mask: Any) -> Any:
        h = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.head((h * m).sum(1) / m.sum(1).clamp(min=1))


def enc(texts: Any, n: int) -> tuple[Any, Any]:
    t = tok(list(texts), max_length=n, truncation=True, padding="max_length", return_tensors="pt")
    return t["input_ids"].to(dev), t["attention_mask"].to(dev)


def run(name: str, max_tokens: int, epochs: int, lr: float, batch: int, weighting: str) -> None:
    torch.manual_seed(0)
    np.random.seed(0)
    model = Clf().to(dev)
    ids, mask = enc(train.text, max_tokens)
    y = torch.tensor(ytr, device=dev)
    counts = np.bincount(ytr, minlength=len(labels)).astype(float)
    w = (counts.sum() / counts) ** (0.5 if weighting == "sqrt" else 0.0)
    w = w / w.mean()
    lossf = torch.nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32, device=dev))
    steps = epochs * ((len(ytr) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / (0.1 * steps), max(0.0, (steps - s) / (0.9 * steps)))
    )
    torch.cuda.synchronize()
    t0 = time.time()
    step = 0
    for _ in range(epochs):
        perm = torch.randperm(len(ytr), device=dev)
        for i in range(0, len(ytr), batch):
            b = perm[i : i + batch]
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = lossf(model(ids[b], mask[b]).float(), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0:
                print(name[:20], step, float(loss), flush=True)
    torch.cuda.synchronize()
    train_s = time.time() - t0
    model.eval()
    tid, tmask = enc(test.text, max_tokens)
    preds = []
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        for i in range(0, len(yte), 256):
            preds.append(model(tid[i : i + 256], tmask[i : i + 256]).argmax(-1).cpu().numpy())
        p = np.concatenate(preds)
        lat = {}
        for bs in (1, 32):
            x, m = tid[:bs], tmask[:bs]
            times = []
            for k in range(60):
                torch.cuda.synchronize()
                s = time.perf_counter()
                model(x, m)
                torch.cuda.synchronize()
                if k >= 10:
                    times.append((time.perf_counter() - s) * 1000)
            lat[f"batch{bs}_p50_ms"] = float(np.percentile(times, 50))
            lat[f"batch{bs}_p95_ms"] = float(np.percentile(times, 95))
    keep = yte >= 0
    r = {
        "name": name,
        "max_tokens": max_tokens,
        "epochs": epochs,
        "steps": step,
        "lr": lr,
        "batch": batch,
        "class_weighting": weighting,
        "train_seconds": round(train_s, 1),
        "accuracy": round(accuracy_score(yte[keep], p[keep]), 4),
        "macro_f1": round(f1_score(yte[keep], p[keep], average="macro"), 4),
        **lat,
    }
    print(json.dumps(r), flush=True)
    results["runs"].append(r)
    with open(f"{OUT}/gpu_encoder.json", "w") as handle:
        json.dump(results, handle, indent=2)


run(
    "lexflow full recipe: 128 wordpieces, lr 1e-4, sqrt class weights, 2 epochs (352 steps of 32; full.json: 400)",
    128,
    2,
    1e-4,
    32,
    "sqrt",
)
run("longer: 256 wordpieces, 6 epochs, lr 5e-5, sqrt weights", 256, 6, 5e-5, 32, "sqrt")
run("longer, 128 wordpieces, 8 epochs, lr 1e-4, sqrt weights", 128, 8, 1e-4, 32, "sqrt")
