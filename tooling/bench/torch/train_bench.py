"""PyTorch twin of tooling/bench/src/trainBench/benchModel.ts (same architecture, sizes,
optimizer and token recipe) for the train-throughput benchmark. Prints one JSON line."""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


def rms_norm(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(seq, dim, base=10000.0):
    half = dim // 2
    freqs = base ** (-2.0 * torch.arange(half, dtype=torch.float64) / dim)
    angles = torch.arange(seq, dtype=torch.float64)[:, None] * freqs[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(x, cos, sin):  # x [B, T, H, D]; cos/sin [T, D/2]
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class BenchModel(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, r, v = cfg["dModel"], cfg["kvRank"], cfg["vocab"]
        p = {}

        def add(name, shape, init="normal"):
            t = torch.ones(shape) if init == "ones" else torch.randn(shape) * 0.02
            p[name.replace(".", "_")] = torch.nn.Parameter(t)

        add("embed", (v, d))
        for l in range(2):
            add(f"l{l}.attnNorm", (d,), "ones")
            add(f"l{l}.wq", (d, d))
            add(f"l{l}.wkvA", (d, r))
            add(f"l{l}.wkB", (r, d))
            add(f"l{l}.wvB", (r, d))
            add(f"l{l}.wo", (d, d))
            add(f"l{l}.ffnNorm", (d,), "ones")
        add("mlp.gate", (d, cfg["mlpHidden"]))
        add("mlp.up", (d, cfg["mlpHidden"]))
        add("mlp.down", (cfg["mlpHidden"], d))
        add("router", (d, cfg["experts"]))
        for e in range(cfg["experts"] + 1):
            name = "shared" if e == cfg["experts"] else f"expert{e}"
            add(f"{name}.gate", (d, cfg["expertHidden"]))
            add(f"{name}.up", (d, cfg["expertHidden"]))
            add(f"{name}.down", (cfg["expertHidden"], d))
        add("finalNorm", (d,), "ones")
        add("head", (d, v))
        self.p = torch.nn.ParameterDict(p)
        cos, sin = rope_tables(cfg["seq"], d // cfg["heads"])
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)

    def w(self, name):
        return self.p[name.replace(".", "_")]

    def swiglu(self, x, prefix):
        return (F.silu(x @ self.w(f"{prefix}.gate")) * (x @ self.w(f"{prefix}.up"))) @ self.w(f"{prefix}.down")

    def attention(self, x, l):
        b, t, h, d = self.cfg["batch"], self.cfg["seq"], self.cfg["heads"], self.cfg["dModel"]
        hd = d // h
        q = (x @ self.w(f"l{l}.wq")).view(b, t, h, hd)
        latent = x @ self.w(f"l{l}.wkvA")
        k = (latent @ self.w(f"l{l}.wkB")).view(b, t, h, hd)
        v = (latent @ self.w(f"l{l}.wvB")).view(b, t, h, hd)
        q, k = apply_rope(q, self.cos, self.sin), apply_rope(k, self.cos, self.sin)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        probs = scores.masked_fill(mask, float("-inf")).softmax(-1)
        out = (probs @ v).transpose(1, 2).reshape(b * t, d)
        return out @ self.w(f"l{l}.wo")

    def moe(self, x):
        experts, top_k = self.cfg["experts"], self.cfg["topK"]
        probs = (x @ self.w("router")).softmax(-1)
        chosen = probs.topk(top_k, dim=-1).indices
        out = self.swiglu(x, "shared")
        for e in range(experts):
            tokens = (chosen == e).any(-1).nonzero().squeeze(-1)
            if tokens.numel() == 0:
                continue
            y = self.swiglu(x.index_select(0, tokens), f"expert{e}") * probs[tokens, e, None]
            out = out.index_add(0, tokens, y)
        return out

    def forward(self, tokens):
        b, t = self.cfg["batch"], self.cfg["seq"]
        inputs, targets = tokens[:, :t].reshape(-1), tokens[:, 1:].reshape(-1)
        x = self.w("embed")[inputs]
        for l in range(2):
            x = x + self.attention(rms_norm(x, self.w(f"l{l}.attnNorm")), l)
            h = rms_norm(x, self.w(f"l{l}.ffnNorm"))
            x = x + (self.swiglu(h, "mlp") if l == 0 else self.moe(h))
        logits = rms_norm(x, self.w("finalNorm")) @ self.w("head")
        return F.cross_entropy(logits, targets)


def token_batch(cfg, step):
    """Same LCG recipe as measureTfjs.ts tokenBatch."""
    count = cfg["batch"] * (cfg["seq"] + 1)
    state = (step * 2654435761 + 12345) & 0xFFFFFFFF
    data = []
    for _ in range(count):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        data.append(state % cfg["vocab"])
    return torch.tensor(data, dtype=torch.long).view(cfg["batch"], cfg["seq"] + 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, help="JSON of TrainBenchConfig")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cfg = json.loads(args.config)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = BenchModel(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["learningRate"])
    batches = [token_batch(cfg, i) for i in range(args.warmup + args.steps)]

    def step(i):
        optimizer.zero_grad(set_to_none=True)
        loss = model(batches[i])
        loss.backward()
        optimizer.step()
        return loss.item()

    first = [step(i) for i in range(args.warmup)][0] if args.warmup else float("nan")
    start = time.perf_counter()
    cpu_start = time.process_time()
    last = float("nan")
    for i in range(args.steps):
        last = step(args.warmup + i)
    ms = (time.perf_counter() - start) * 1000 / args.steps
    cpu_ms = (time.process_time() - cpu_start) * 1000 / args.steps
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "tokensPerSecond": cfg["batch"] * cfg["seq"] * 1000 / ms,
        "tokensPerCpuSecond": cfg["batch"] * cfg["seq"] * 1000 / cpu_ms,
        "msPerStep": ms,
        "firstLoss": first,
        "finalLoss": last,
        "parameters": params,
        "torch": torch.__version__,
        "blas": torch.__config__.show().count("BLAS"),
    }))


if __name__ == "__main__":
    main()
