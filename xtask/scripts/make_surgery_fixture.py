"""Write the PyTorch fixtures that the layer-surgery tests read.

Usage:
    python xtask/scripts/make_surgery_fixture.py crates/layer-surgery/tests/fixtures

Needs torch and safetensors. Every file is written with a fixed seed, so
rerunning the script with the same torch version reproduces the same values.

Files:
    blocks12.pth.tar         12-block checkpoint, weights under `net`
    blocks12_module.pth.tar  the same with every key prefixed `module.`
    blocks12.safetensors     the weights alone as safetensors
    views.pth                strided, offset and shared-storage tensors, their
                             contiguous copies under `plain`, every dtype, an
                             AdamW state and nested Python values
    views_legacy.pth         views.pth in the pre-1.6 (non-zip) format
    views_protocol4.pth      three views, their copies and the nested values,
                             written with pickle protocol 4

The model follows the backbone key layout of MixFormerV2 with tiny widths
(embedding 2, MLP ratio 2, 4 bins) and a 4x4 patch instead of 16x16 so that
the files stay a few tens of kilobytes.
"""

import argparse
import collections
import pathlib

import torch
from safetensors.torch import save_file
from torch import nn

EMBED_DIM = 2
MLP_HIDDEN = 4
DEPTH = 12
FEAT_SZ = 4
PATCH = 4
TEMPLATE_TOKENS = 4
SEARCH_TOKENS = 9
SEED = 0


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(EMBED_DIM, 3 * EMBED_DIM)
        self.proj = nn.Linear(EMBED_DIM, EMBED_DIM)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(EMBED_DIM, MLP_HIDDEN)
        self.fc2 = nn.Linear(MLP_HIDDEN, EMBED_DIM)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(EMBED_DIM)
        self.attn = Attention()
        self.norm2 = nn.LayerNorm(EMBED_DIM)
        self.mlp = Mlp()


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, EMBED_DIM, PATCH, stride=PATCH)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.pos_embed_t = nn.Parameter(torch.randn(1, TEMPLATE_TOKENS, EMBED_DIM), requires_grad=False)
        self.pos_embed_s = nn.Parameter(torch.randn(1, SEARCH_TOKENS, EMBED_DIM), requires_grad=False)
        self.reg_tokens = nn.Parameter(torch.randn(1, 4, EMBED_DIM))
        self.pos_embed_reg = nn.Parameter(torch.randn(1, 4, EMBED_DIM))
        self.blocks = nn.ModuleList(Block() for _ in range(DEPTH))


class BoxHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [
                nn.Sequential(nn.Linear(EMBED_DIM, EMBED_DIM), nn.LayerNorm(EMBED_DIM)),
                nn.Sequential(nn.Linear(EMBED_DIM, FEAT_SZ), nn.LayerNorm(FEAT_SZ)),
            ]
        )


class ScoreHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Sequential(nn.Linear(EMBED_DIM, EMBED_DIM)), nn.Linear(EMBED_DIM, 1)])


class MixFormer(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.box_head = BoxHead()
        self.score_head = ScoreHead()


def randomize(model):
    """Give every tensor distinct values, LayerNorm weights included."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn_like(parameter))


def checkpoint_dict(net_state):
    return {
        "epoch": 40,
        "actor_type": "MixFormerDistillStage2Actor",
        "net_type": "MixFormer",
        "net": net_state,
        "net_info": None,
        "constructor": None,
        "optimizer": None,
        "stats": {"Loss/total": 1.25, "IoU": 0.5},
        "settings": {"TRAIN": {"EPOCH": 45, "REMOVE_LAYERS": [0, 3, 6, 9]}, "MODEL": {"DEPTH": 12}},
    }


def write_block_checkpoints(folder):
    model = MixFormer()
    randomize(model)
    state = model.state_dict()
    torch.save(checkpoint_dict(state), folder / "blocks12.pth.tar")

    prefixed = collections.OrderedDict(("module." + name, tensor) for name, tensor in state.items())
    torch.save(checkpoint_dict(prefixed), folder / "blocks12_module.pth.tar")

    save_file({name: tensor.contiguous() for name, tensor in state.items()}, folder / "blocks12.safetensors")


def adamw_state():
    """The state of AdamW after two steps on a small linear layer, with a scheduler."""
    layer = nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(layer.parameters(), lr=4e-4, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        layer(torch.randn(5, 3)).square().sum().backward()
        optimizer.step()
        scheduler.step()
    return optimizer.state_dict()


def view_tensors():
    matrix = torch.randn(3, 5)
    vector = torch.randn(10)
    grid = torch.randn(4, 6)
    shared = torch.randn(8)
    half_matrix = torch.randn(2, 3).half()
    return {
        "transposed": matrix.t(),
        "slice": vector[2:7],
        "block": grid[1:3, 2:5],
        "every_other_column": grid[:, ::2],
        "shared_a": shared[:4],
        "shared_b": shared[4:],
        "expanded": torch.tensor([1.5]).expand(2, 3),
        "half_transposed": half_matrix.t(),
        "float64": torch.randn(2, 2, dtype=torch.float64),
        "bfloat16": torch.randn(3).to(torch.bfloat16),
        "int64": torch.tensor([-(2**40), 0, 7]),
        "int32": torch.tensor([[1, -2], [3, -4]], dtype=torch.int32),
        "int16": torch.tensor([-300, 300], dtype=torch.int16),
        "int8": torch.tensor([-128, 127], dtype=torch.int8),
        "uint8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }


def write_views(folder):
    views = view_tensors()
    contents = {
        "views": views,
        "plain": {name: tensor.contiguous().clone() for name, tensor in views.items()},
        "optimizer": adamw_state(),
        "nested": {
            "list": [1, 2.5, "text", None, True],
            "tuple": (1, (2, 3)),
            "bytes": b"\x00\xff",
            "int_keys": {0: "zero", 7: "seven"},
            "big": 2**40,
            "negative": -5,
        },
    }
    torch.save(contents, folder / "views.pth")
    torch.save(contents, folder / "views_legacy.pth", _use_new_zipfile_serialization=False)
    subset = ["transposed", "shared_a", "shared_b"]
    protocol4 = {
        "views": {name: views[name] for name in subset},
        "plain": {name: contents["plain"][name] for name in subset},
        "nested": contents["nested"],
    }
    torch.save(protocol4, folder / "views_protocol4.pth", pickle_protocol=4)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=pathlib.Path, help="folder to write the fixtures to")
    arguments = parser.parse_args()
    arguments.output.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(SEED)
    write_block_checkpoints(arguments.output)
    write_views(arguments.output)
    for path in sorted(arguments.output.iterdir()):
        print(f"{path.stat().st_size:8d}  {path.name}")


if __name__ == "__main__":
    main()
