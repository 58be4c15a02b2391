"""Write a checkpoint shaped like the published MixFormer and MixFormerV2 ones.

Usage:
    python xtask/scripts/make_foreign_checkpoint.py crates/layer-surgery/tests/fixtures

Needs torch, numpy and safetensors. The reference trainers save a dict with
`net`, `epoch`, `net_type`, `actor_type`, `optimizer`, `stats` and `settings`,
where `stats` contains `lib.train.admin.stats` meter objects and `settings` a
`lib.train.admin.settings.Settings` object. This script defines small classes
under those module names in a temporary folder (never in the repository), so
the pickle references the same globals as a published file.

Files:
    foreign_objects.pth.tar             the checkpoint, default torch.save (protocol 2)
    foreign_objects_protocol4.pth.tar   the same object with pickle protocol 4
    foreign_objects.safetensors         the `net` tensors alone, for comparison

Every value comes from a fixed seed, so rerunning the script with the same
torch version reproduces the same values.
"""

import argparse
import collections
import importlib
import pathlib
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

SEED = 0

# Python sources of the stand-in reference modules. Only the module and class
# names matter to the pickle, so the classes keep a few plain attributes.
STATS_SOURCE = """
class AverageMeter:
    def __init__(self):
        self.val = 0.0
        self.avg = 0.0
        self.sum = 0.0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


class StatValue:
    def __init__(self):
        self.val = 0.0
        self.history = []

    def update(self, val):
        self.val = val
        self.history.append(val)
"""

LOCAL_SOURCE = """
class EnvironmentSettings:
    def __init__(self):
        self.workspace_dir = "checkpoints"
        self.lasot_dir = "data/lasot"
        self.got10k_dir = "data/got10k/train"
"""

SETTINGS_SOURCE = """
class ConfigDict(dict):
    '''A dict whose entries are also attributes, as easydict provides.'''

    def __getattr__(self, name):
        return self[name]


class Settings:
    def __init__(self):
        self.script_name = "mixformer2_vit"
        self.config_name = "student_288_depth12"
        self.use_gpu = True
        self.local_rank = -1
"""


def write_module_tree(root: pathlib.Path) -> None:
    admin = root / "lib" / "train" / "admin"
    admin.mkdir(parents=True)
    for package in (root / "lib", root / "lib" / "train", admin):
        (package / "__init__.py").write_text("")
    (admin / "stats.py").write_text(STATS_SOURCE)
    (admin / "local.py").write_text(LOCAL_SOURCE)
    (admin / "settings.py").write_text(SETTINGS_SOURCE)


class TinyTracker(nn.Module):
    """A few layers with the reference's key names and tiny widths."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.cls_token = nn.Parameter(torch.randn(1, 1, 4))
        self.backbone.patch_embed = nn.Module()
        self.backbone.patch_embed.proj = nn.Conv2d(3, 4, kernel_size=2, stride=2)
        self.backbone.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.box_head = nn.Linear(4, 2)


def make_checkpoint(stats_module, local_module, settings_module):
    torch.manual_seed(SEED)
    net = TinyTracker()
    optimizer = torch.optim.AdamW(net.parameters(), lr=4e-4, weight_decay=1e-4)
    # Every parameter takes part, so every one has an AdamW state.
    patch = net.backbone.patch_embed.proj(torch.randn(1, 3, 2, 2)).reshape(1, 1, 4)
    tokens = net.backbone.cls_token + patch
    for block in net.backbone.blocks:
        tokens = block(tokens)
    loss = net.box_head(tokens).square().sum()
    loss.backward()
    optimizer.step()

    iou = stats_module.AverageMeter()
    for value in (0.5, 0.75):
        iou.update(value)
    lr = stats_module.StatValue()
    lr.update(4e-4)
    loss_meter = stats_module.AverageMeter()
    # A numpy scalar, as when a loss is logged after `.cpu().numpy()`.
    loss_meter.update(np.float64(1.25))
    stats = collections.OrderedDict(
        train=collections.OrderedDict(
            [("Loss/total", loss_meter), ("IoU", iou), ("LearningRate/group0", lr)]
        )
    )

    settings = settings_module.Settings()
    settings.env = local_module.EnvironmentSettings()
    settings.args = argparse.Namespace(script="mixformer2_vit", mode="multiple", nproc_per_node=8)
    settings.cfg = settings_module.ConfigDict(
        TRAIN=settings_module.ConfigDict(EPOCH=500, LR=4e-4, REMOVE_LAYERS=[0, 3, 6, 9]),
        DATA=settings_module.ConfigDict(MEAN=(0.485, 0.456, 0.406), SEARCH_SIZE=288),
    )
    settings.device = torch.device("cpu")
    # Integers, because the order of a pickled set of strings changes with the hash seed.
    settings.frozen_layers = {0, 3, 6, 9}
    settings.signature = b"\x00\xffmixformer"

    checkpoint = {
        "epoch": 3,
        "actor_type": "MixFormerDistillStage1Actor",
        "net_type": "MixFormer",
        "net": net.state_dict(),
        "net_info": None,
        "constructor": None,
        "optimizer": optimizer.state_dict(),
        "stats": stats,
        "settings": settings,
    }
    return checkpoint, net.state_dict()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=pathlib.Path, help="folder to write the files to")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as folder:
        write_module_tree(pathlib.Path(folder))
        sys.path.insert(0, folder)
        try:
            stats_module = importlib.import_module("lib.train.admin.stats")
            local_module = importlib.import_module("lib.train.admin.local")
            settings_module = importlib.import_module("lib.train.admin.settings")
            checkpoint, weights = make_checkpoint(stats_module, local_module, settings_module)
            torch.save(checkpoint, args.out / "foreign_objects.pth.tar")
            torch.save(checkpoint, args.out / "foreign_objects_protocol4.pth.tar", pickle_protocol=4)
        finally:
            sys.path.remove(folder)

    save_file({name: tensor.contiguous() for name, tensor in weights.items()},
              str(args.out / "foreign_objects.safetensors"))
    for name in ("foreign_objects.pth.tar", "foreign_objects_protocol4.pth.tar",
                 "foreign_objects.safetensors"):
        print(f"wrote {args.out / name} ({(args.out / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
