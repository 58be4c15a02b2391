"""Check that PyTorch loads a checkpoint written by the Rust code.

Usage:
    python xtask/scripts/check_torch_load.py CHECKPOINT [--safetensors FILE] [--original FILE]

Checks, in order:
  * `torch.load(weights_only=True)` (PyTorch's restricted unpickler) and
    `torch.load(mmap=True)` both open the file;
  * every zip entry's data starts at a multiple of 64 bytes, as torch.save writes it;
  * with --safetensors: the weights (under `net`, `model` or at the top level)
    have the same names, dtypes, shapes and values as the safetensors file;
  * with --original: the whole loaded object equals the one in ORIGINAL;
  * if the checkpoint has an `optimizer` with `param_groups`, torch.optim.AdamW
    accepts it with load_state_dict and takes a step.

Exits with status 1 on the first difference.
"""

import argparse
import struct
import sys
import zipfile

import torch
from safetensors.torch import load_file

ALIGNMENT = 64
LOCAL_HEADER_SIZE = 30


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check_alignment(path):
    with open(path, "rb") as raw, zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            raw.seek(info.header_offset)
            header = raw.read(LOCAL_HEADER_SIZE)
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            data_start = info.header_offset + LOCAL_HEADER_SIZE + name_length + extra_length
            if data_start % ALIGNMENT:
                fail(f"entry {info.filename} starts at byte {data_start}, not a multiple of {ALIGNMENT}")
            if info.compress_type != zipfile.ZIP_STORED:
                fail(f"entry {info.filename} is compressed")
        print(f"ok: {len(archive.infolist())} zip entries, stored, data aligned to {ALIGNMENT} bytes")


def find_weights(loaded):
    """Return where the state dict is and the state dict, or (None, None)."""
    if not isinstance(loaded, dict):
        return None, None
    for key in ("net", "model"):
        if isinstance(loaded.get(key), dict):
            return key, loaded[key]
    if loaded and all(isinstance(value, torch.Tensor) for value in loaded.values()):
        return "top level", loaded
    return None, None


def assert_same(expected, found, where):
    if isinstance(expected, torch.Tensor):
        if not isinstance(found, torch.Tensor):
            fail(f"{where}: expected a tensor, found {type(found).__name__}")
        if expected.dtype != found.dtype or expected.shape != found.shape:
            fail(f"{where}: {found.dtype} {tuple(found.shape)}, expected {expected.dtype} {tuple(expected.shape)}")
        if not torch.equal(expected, found):
            fail(f"{where}: values differ")
        return 1
    if type(expected) is not type(found):
        fail(f"{where}: {type(found).__name__}, expected {type(expected).__name__}")
    if isinstance(expected, dict):
        if list(expected.keys()) != list(found.keys()):
            fail(f"{where}: keys {list(found.keys())}, expected {list(expected.keys())}")
        return sum(assert_same(expected[key], found[key], f"{where}[{key!r}]") for key in expected)
    if isinstance(expected, (list, tuple)):
        if len(expected) != len(found):
            fail(f"{where}: {len(found)} items, expected {len(expected)}")
        return sum(assert_same(item, other, f"{where}[{index}]") for index, (item, other) in enumerate(zip(expected, found)))
    if expected != found:
        fail(f"{where}: {found!r}, expected {expected!r}")
    return 0


def check_safetensors(weights, path):
    reference = load_file(path)
    if set(reference) != set(weights):
        fail(f"names differ: only in checkpoint {sorted(set(weights) - set(reference))}, only in safetensors {sorted(set(reference) - set(weights))}")
    for name, tensor in reference.items():
        assert_same(tensor, weights[name], name)
    print(f"ok: {len(reference)} tensors equal to {path} (names, dtypes, shapes, values)")


def check_optimizer(loaded):
    state = loaded.get("optimizer") if isinstance(loaded, dict) else None
    if not isinstance(state, dict) or "param_groups" not in state:
        return
    parameters = []
    for group in state["param_groups"]:
        shapes = [tuple(state["state"][index]["exp_avg"].shape) for index in group["params"]]
        parameters.append({"params": [torch.nn.Parameter(torch.zeros(shape)) for shape in shapes]})
    optimizer = torch.optim.AdamW(parameters)
    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            parameter.grad = torch.ones_like(parameter)
    optimizer.step()
    count = sum(len(group["params"]) for group in state["param_groups"])
    print(f"ok: AdamW.load_state_dict accepted {len(state['param_groups'])} groups, {count} parameters, and stepped")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="torch.save file written by the Rust code")
    parser.add_argument("--safetensors", help="safetensors file with the expected weights")
    parser.add_argument("--original", help="torch.save file whose whole contents are expected")
    arguments = parser.parse_args()

    print(f"torch {torch.__version__}")
    loaded = torch.load(arguments.checkpoint, weights_only=True)
    print(f"ok: torch.load(weights_only=True) read {arguments.checkpoint}")
    mapped = torch.load(arguments.checkpoint, weights_only=True, mmap=True)
    assert_same(loaded, mapped, "mmap")
    print("ok: torch.load(mmap=True) gives the same object")
    check_alignment(arguments.checkpoint)

    location, weights = find_weights(loaded)
    if location is None:
        print("no state dict under `net`, `model` or at the top level")
    else:
        print(f"weights at {location}: {len(weights)} tensors")
    if arguments.safetensors:
        if weights is None:
            fail("--safetensors given but the checkpoint has no state dict")
        check_safetensors(weights, arguments.safetensors)
    if arguments.original:
        original = torch.load(arguments.original, weights_only=True)
        tensors = assert_same(original, loaded, "checkpoint")
        print(f"ok: whole object equals {arguments.original} ({tensors} tensors)")
    check_optimizer(loaded)


if __name__ == "__main__":
    main()
