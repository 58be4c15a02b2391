"""Writes the PyTorch parity fixtures of the model crate.

The modules below are a small PyTorch implementation of the MixFormer-ViT
teacher and the MixFormerV2 student written from the project's method notes
(docs/model.md). With random weights and inputs, the script saves:

  <out>/teacher_corner_up.pth.tar  torch.save({"net": state_dict, ...})
  <out>/teacher_corner_up.safetensors  inputs and reference outputs
  <out>/teacher_corner.pth.tar / .safetensors  the stride-16 corner head
  <out>/student.pth.tar / .safetensors  student with score head

Usage: python make_model_fixtures.py OUT_DIR   (needs torch and safetensors)
"""

import math
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


def sincos_table(grid, dim):
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)

    def code(positions):
        angles = positions[:, None].double() * omega[None, :]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    ys, xs = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    table = torch.cat([code(xs.flatten()), code(ys.flatten())], dim=1)
    return table.float().unsqueeze(0)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, template_tokens):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scale = (c // self.heads) ** -0.5
        t = template_tokens
        a_t = ((q[:, :, :t] @ k[:, :, :t].transpose(-2, -1)) * scale).softmax(-1)
        out_t = a_t @ v[:, :, :t]
        a_s = ((q[:, :, t:] @ k.transpose(-2, -1)) * scale).softmax(-1)
        out_s = a_s @ v
        out = torch.cat([out_t, out_s], dim=2).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def drop_path(x, prob, training):
    """Stochastic depth: drops the branch per sample in training."""
    if prob == 0.0 or not training:
        return x
    keep = 1.0 - prob
    mask = x.new_empty(x.shape[0], 1, 1).bernoulli_(keep)
    return x * mask / keep


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = drop_path

    def forward(self, x, template_tokens, rate=1.0):
        attn = drop_path(self.attn(self.norm1(x), template_tokens), self.drop_path, self.training)
        x = x + (attn if rate == 1.0 else rate * attn)
        mlp = drop_path(self.mlp(self.norm2(x)), self.drop_path, self.training)
        return x + (mlp if rate == 1.0 else rate * mlp)


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Backbone(nn.Module):
    def __init__(self, dim, depth, heads, mlp_ratio, patch, template, search, tokens,
                 drop_path_rate=0.0):
        super().__init__()
        self.patch_embed = PatchEmbed(dim, patch)
        # Rates rise linearly from 0 at the first block to drop_path_rate at the last.
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, rate) for rate in rates])
        self.register_buffer("pos_embed_t", sincos_table(template // patch, dim))
        self.register_buffer("pos_embed_s", sincos_table(search // patch, dim))
        self.tokens = tokens
        if tokens:
            self.reg_tokens = nn.Parameter(torch.randn(1, 4, dim) * 0.02)
            self.pos_embed_reg = nn.Parameter(torch.randn(1, 4, dim) * 0.02)

    def forward(self, t, ot, s, rates=None):
        t = self.patch_embed(t) + self.pos_embed_t
        ot = self.patch_embed(ot) + self.pos_embed_t
        s = self.patch_embed(s) + self.pos_embed_s
        parts = [t, ot, s]
        if self.tokens:
            parts.append((self.reg_tokens + self.pos_embed_reg).expand(s.shape[0], -1, -1))
        x = torch.cat(parts, dim=1)
        outputs = []
        for i, block in enumerate(self.blocks):
            x = block(x, 2 * t.shape[1], 1.0 if rates is None else rates[i])
            outputs.append(x)
        n_t, n_s = 2 * t.shape[1], s.shape[1]
        search = x[:, n_t:n_t + n_s]
        tokens = x[:, n_t + n_s:] if self.tokens else None
        return search, tokens, outputs


def conv_unit(a, b):
    return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU())


class CornerHead(nn.Module):
    def __init__(self, dim, c, up):
        super().__init__()
        self.up = up
        self.stride = 4 if up else 16
        for b in ("tl", "br"):
            setattr(self, f"conv1_{b}", conv_unit(dim, c))
            setattr(self, f"conv2_{b}", conv_unit(c, c // 2))
            setattr(self, f"conv3_{b}", conv_unit(c // 2, c // 4))
            setattr(self, f"conv4_{b}", conv_unit(c // 4, c // 8))
            setattr(self, f"conv5_{b}", nn.Conv2d(c // 8, 1, 1))
            if up:
                setattr(self, f"adjust1_{b}", conv_unit(dim, c // 2))
                setattr(self, f"adjust2_{b}", conv_unit(dim, c // 4))
                setattr(self, f"adjust3_{b}", nn.Sequential(
                    conv_unit(c // 2, c // 4), conv_unit(c // 4, c // 8), conv_unit(c // 8, 1)))
                setattr(self, f"adjust4_{b}", nn.Sequential(
                    conv_unit(c // 4, c // 8), conv_unit(c // 8, 1)))

    def branch(self, x, b):
        m = lambda name: getattr(self, f"{name}_{b}")
        up = lambda y, f: F.interpolate(y, scale_factor=f, mode="nearest")
        x1 = m("conv1")(x)
        x2 = m("conv2")(x1)
        if not self.up:
            return m("conv5")(m("conv4")(m("conv3")(x2)))
        x3 = m("conv3")(up(m("adjust1")(x), 2) + up(x2, 2))
        x4 = m("conv4")(up(m("adjust2")(x), 4) + up(x3, 2))
        return m("conv5")(x4) + up(m("adjust3")(x2), 4) + up(m("adjust4")(x3), 2)

    def forward(self, search):
        b, n, c = search.shape
        g = int(round(math.sqrt(n)))
        x = search.transpose(1, 2).reshape(b, c, g, g)
        result = []
        probs = []
        for branch in ("tl", "br"):
            score = self.branch(x, branch)
            side = score.shape[-1]
            prob = score.reshape(b, -1).softmax(dim=1)
            idx = torch.arange(side * side)
            xs = (idx % side).float() * self.stride
            ys = (idx // side).float() * self.stride
            result += [(prob * xs).sum(1), (prob * ys).sum(1)]
            probs.append(prob)
        boxes = torch.stack(result, dim=1) / (side * self.stride)
        return boxes, probs[0], probs[1]


class DistributionHead(nn.Module):
    def __init__(self, dim, bins, search):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim), nn.ReLU()),
            nn.Sequential(nn.Linear(dim, bins), nn.LayerNorm(bins)),
        )
        self.stride = search / bins

    def forward(self, tokens):
        logits = self.layers(tokens)  # [B, 4, F] in token order l, r, t, b
        bins = logits.shape[-1]
        positions = torch.arange(bins).float() * self.stride
        coords = (logits.softmax(-1) * positions).sum(-1)
        l, r, t, b = coords.unbind(1)
        boxes = torch.stack([l, t, r, b], dim=1) / (bins * self.stride)
        return boxes, logits


class ScoreHead(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.layers = nn.Sequential(nn.Sequential(nn.Linear(dim, dim), nn.ReLU()), nn.Linear(dim, 1))

    def forward(self, tokens):
        return self.layers(tokens).mean(dim=1)


def randomise(model, generator):
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked") or "pos_embed_t" in name or "pos_embed_s" in name:
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif ("norm" in name or ".1.weight" in name) and tensor.dim() == 1 and name.endswith("weight"):
                tensor.copy_(1 + 0.1 * torch.randn(tensor.shape, generator=generator))
            else:
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))


DIM, HEADS, TEMPLATE, SEARCH, PATCH, BATCH = 32, 4, 32, 64, 16, 2


def images(generator):
    return {
        "template": torch.randn(BATCH, 3, TEMPLATE, TEMPLATE, generator=generator),
        "online_template": torch.randn(BATCH, 3, TEMPLATE, TEMPLATE, generator=generator),
        "search": torch.randn(BATCH, 3, SEARCH, SEARCH, generator=generator),
    }


def save(out, name, modules, tensors, extra):
    # Imported here so that the benchmarks can reuse the modules without safetensors.
    from safetensors.torch import save_file

    state = {}
    for prefix, module in modules.items():
        for key, value in module.state_dict().items():
            state[f"{prefix}.{key}"] = value
    state.update(extra)
    checkpoint = {"net": state, "epoch": 1, "net_type": "MixFormer", "actor_type": "fixture"}
    torch.save(checkpoint, out / f"{name}.pth.tar")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out / f"{name}.safetensors"))


def teacher(out, up, generator):
    backbone = Backbone(DIM, 2, HEADS, 4.0, PATCH, TEMPLATE, SEARCH, tokens=False)
    head = CornerHead(DIM, 32, up)
    randomise(backbone, generator)
    randomise(head, generator)
    backbone.eval()
    head.eval()
    inputs = images(generator)
    with torch.no_grad():
        search, _, _ = backbone(inputs["template"], inputs["online_template"], inputs["search"])
        boxes, prob_tl, prob_br = head(search)
    # Leftovers of the classification ViT that published teachers carry.
    leftovers = {
        "backbone.cls_token": torch.zeros(1, 1, DIM),
        "backbone.pos_embed": torch.zeros(1, 5, DIM),
        "backbone.norm.weight": torch.ones(DIM),
        "backbone.norm.bias": torch.zeros(DIM),
    }
    name = "teacher_corner_up" if up else "teacher_corner"
    outputs = dict(inputs, boxes=boxes, prob_tl=prob_tl, prob_br=prob_br)
    save(out, name, {"backbone": backbone, "box_head": head}, outputs, leftovers)


def student(out, generator):
    backbone = Backbone(DIM, 3, HEADS, 2.0, PATCH, TEMPLATE, SEARCH, tokens=True)
    head = DistributionHead(DIM, SEARCH // 4, SEARCH)
    score = ScoreHead(DIM)
    for module in (backbone, head, score):
        randomise(module, generator)
        module.eval()
    inputs = images(generator)
    rates = [1.0, 0.5, 0.0]
    with torch.no_grad():
        args = (inputs["template"], inputs["online_template"], inputs["search"])
        _, tokens, blocks = backbone(*args)
        boxes, logits = head(tokens)
        score_logits = score(tokens)
        _, tokens_removed, _ = backbone(*args, rates=rates)
        boxes_removed, _ = head(tokens_removed)
    outputs = dict(inputs, boxes=boxes, score_logits=score_logits, boxes_removed=boxes_removed,
                   remove_rates=torch.tensor(rates))
    for i, side in enumerate(["left", "right", "top", "bottom"]):
        outputs[f"logits_{side}"] = logits[:, i]
    for i, block in enumerate(blocks):
        outputs[f"block_{i}"] = block
    save(out, "student", {"backbone": backbone, "box_head": head, "score_head": score}, outputs, {})


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(20261204)
    teacher(out, True, generator)
    teacher(out, False, generator)
    student(out, generator)


if __name__ == "__main__":
    main()
