"""Writes the PyTorch parity fixture of the distillation losses.

The losses below are written in PyTorch from the method notes of the
MixFormerV2 recipe (CIoU with the IoU > 0.5 aspect term, L1, the stage-1 KL
over marginalised corner maps, the stage-2 KL over side distributions, the
feature MSE over paired blocks and BCE with logits). Inputs are random with a
fixed seed and stored as float32. Outputs and the gradients with respect to
the student's inputs are computed in float64 from those float32 values and
stored as float64. The Rust tests thus compare against the exact result of
their own inputs.

  <out>/losses.safetensors   every input, output and gradient, named
                             "<loss>.<tensor>" (see the keys below)

The CIoU boxes are ordinary (positive widths and heights, no ties between
coordinates), where the unguarded formula is defined.

Usage: python make_loss_fixtures.py OUT_DIR   (needs torch and safetensors)
"""

import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

SEED = 20240607


def ciou_reference(predicted, target):
    """CIoU loss and per-pair IoU of [N, 4] (x1, y1, x2, y2) boxes, unguarded."""
    px1, py1, px2, py2 = predicted.unbind(-1)
    tx1, ty1, tx2, ty2 = target.unbind(-1)
    pw, ph = px2 - px1, py2 - py1
    tw, th = tx2 - tx1, ty2 - ty1

    inter = (torch.minimum(px2, tx2) - torch.maximum(px1, tx1)).clamp(min=0) * (
        torch.minimum(py2, ty2) - torch.maximum(py1, ty1)
    ).clamp(min=0)
    union = pw * ph + tw * th - inter
    iou = inter / union

    rho2 = ((tx1 + tx2 - px1 - px2) / 2) ** 2 + ((ty1 + ty2 - py1 - py2) / 2) ** 2
    c2 = (torch.maximum(px2, tx2) - torch.minimum(px1, tx1)).clamp(min=0) ** 2 + (
        torch.maximum(py2, ty2) - torch.minimum(py1, ty1)
    ).clamp(min=0) ** 2

    v = 4 / math.pi**2 * (torch.atan(tw / th) - torch.atan(pw / ph)) ** 2
    with torch.no_grad():
        alpha = (iou > 0.5).double() * v / (1 - iou + v)
    ciou = (iou - rho2 / c2 - alpha * v).clamp(-1.0, 1.0)
    return (1 - ciou).mean(), iou


def kl_batchmean(teacher_probabilities, student_logits):
    """KL(teacher || student) summed over bins, divided by the batch size."""
    return F.kl_div(F.log_softmax(student_logits, dim=1), teacher_probabilities, reduction="batchmean")


def random_boxes(generator, count):
    """[count, 4] boxes (x1, y1, x2, y2) inside the unit square."""
    centre = 0.25 + 0.5 * torch.rand(count, 2, generator=generator, dtype=torch.float64)
    size = 0.05 + 0.4 * torch.rand(count, 2, generator=generator, dtype=torch.float64)
    return torch.cat([centre - size / 2, centre + size / 2], dim=1)


def leaf(tensor):
    """float32 input, returned with the float64 copy that carries the gradient."""
    stored = tensor.float().contiguous()
    return stored, stored.double().requires_grad_()


def ciou_and_l1(generator, tensors):
    count = 24
    target = random_boxes(generator, count)
    # The first half narrows each target by 20 to 40 %, heightens it by up to 10 % and shifts
    # its centre by about 2 % of its size, so IoU > 0.5 and the aspect term alpha * v is large
    # enough to show in the gradient. The second half is unrelated (mostly IoU <= 0.5, some
    # pairs disjoint).
    near = target[: count // 2]
    centre = (near[:, :2] + near[:, 2:]) / 2
    size = near[:, 2:] - near[:, :2]
    scale = torch.stack(
        [
            0.6 + 0.2 * torch.rand(count // 2, generator=generator, dtype=torch.float64),
            1.0 + 0.1 * torch.rand(count // 2, generator=generator, dtype=torch.float64),
        ],
        dim=1,
    )
    shift = 0.02 * size * torch.randn(count // 2, 2, generator=generator, dtype=torch.float64)
    reshaped = torch.cat([centre + shift - size * scale / 2, centre + shift + size * scale / 2], dim=1)
    predicted = torch.cat([reshaped, random_boxes(generator, count // 2)])

    predicted32, predicted64 = leaf(predicted)
    target32 = target.float().contiguous()
    target64 = target32.double()
    loss, iou = ciou_reference(predicted64, target64)
    loss.backward()
    assert (predicted32[:, 2:] > predicted32[:, :2]).all(), "ordinary boxes only"
    assert (iou[: count // 2] > 0.5).all(), "the jittered half must exercise the aspect term"

    tensors["ciou.predicted"] = predicted32
    tensors["ciou.target"] = target32
    tensors["ciou.loss"] = loss.detach().reshape(1)
    tensors["ciou.iou"] = iou.detach()
    tensors["ciou.grad_predicted"] = predicted64.grad

    predicted64.grad = None
    l1 = F.l1_loss(predicted64, target64)
    l1.backward()
    tensors["l1.loss"] = l1.detach().reshape(1)
    tensors["l1.grad_predicted"] = predicted64.grad


SIDES = ("left", "right", "top", "bottom")


def corner_kl(generator, tensors):
    batch, bins = 3, 6
    maps = {}
    for name in ("prob_tl", "prob_br"):
        logits = 2 * torch.randn(batch, bins * bins, generator=generator, dtype=torch.float64)
        stored, _ = leaf(logits.softmax(dim=1))
        tensors[f"corner_kl.teacher.{name}"] = stored
        maps[name] = stored.double().reshape(batch, bins, bins)  # [B, y, x]

    teacher = {
        "top": maps["prob_tl"].sum(dim=2),
        "left": maps["prob_tl"].sum(dim=1),
        "bottom": maps["prob_br"].sum(dim=2),
        "right": maps["prob_br"].sum(dim=1),
    }
    students = {}
    for side in SIDES:
        stored, students[side] = leaf(torch.randn(batch, bins, generator=generator, dtype=torch.float64))
        tensors[f"corner_kl.student.{side}"] = stored

    loss = sum(kl_batchmean(teacher[side], students[side]) for side in SIDES) / 4
    loss.backward()
    tensors["corner_kl.loss"] = loss.detach().reshape(1)
    for side in SIDES:
        tensors[f"corner_kl.grad_student.{side}"] = students[side].grad


def side_kl(generator, tensors):
    batch, bins = 3, 10
    teacher, students = {}, {}
    for side in SIDES:
        probabilities = (2 * torch.randn(batch, bins, generator=generator, dtype=torch.float64)).softmax(dim=1)
        # Empty bins exercise the t log t = 0 convention.
        probabilities[0, :3] = 0.0
        probabilities = probabilities / probabilities.sum(dim=1, keepdim=True)
        stored, _ = leaf(probabilities)
        tensors[f"side_kl.teacher.{side}"] = stored
        teacher[side] = stored.double()
        stored, students[side] = leaf(torch.randn(batch, bins, generator=generator, dtype=torch.float64))
        tensors[f"side_kl.student.{side}"] = stored

    loss = sum(kl_batchmean(teacher[side], students[side]) for side in SIDES) / 4
    loss.backward()
    tensors["side_kl.loss"] = loss.detach().reshape(1)
    for side in SIDES:
        tensors[f"side_kl.grad_student.{side}"] = students[side].grad


def feature_mse(generator, tensors):
    shape = (2, 5, 8)
    student_layers, teacher_layers = [0, 2], [1, 3]
    students = []
    for index in range(3):
        stored, student = leaf(torch.randn(*shape, generator=generator, dtype=torch.float64))
        tensors[f"feature.student.{index}"] = stored
        students.append(student)
    teachers = []
    for index in range(4):
        stored, _ = leaf(torch.randn(*shape, generator=generator, dtype=torch.float64))
        tensors[f"feature.teacher.{index}"] = stored
        teachers.append(stored.double())

    stacked_student = torch.stack([students[i] for i in student_layers])
    stacked_teacher = torch.stack([teachers[i] for i in teacher_layers])
    loss = F.mse_loss(stacked_student, stacked_teacher)
    loss.backward()
    tensors["feature.student_layers"] = torch.tensor(student_layers, dtype=torch.int64)
    tensors["feature.teacher_layers"] = torch.tensor(teacher_layers, dtype=torch.int64)
    tensors["feature.loss"] = loss.detach().reshape(1)
    for index in student_layers:
        tensors[f"feature.grad_student.{index}"] = students[index].grad


def bce(generator, tensors):
    batch = 8
    stored, logits = leaf(3 * torch.randn(batch, generator=generator, dtype=torch.float64))
    labels = (torch.rand(batch, generator=generator) > 0.5).float()
    loss = F.binary_cross_entropy_with_logits(logits, labels.double())
    loss.backward()
    tensors["bce.logits"] = stored
    tensors["bce.labels"] = labels
    tensors["bce.loss"] = loss.detach().reshape(1)
    tensors["bce.grad_logits"] = logits.grad


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_loss_fixtures.py OUT_DIR")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)

    generator = torch.Generator().manual_seed(SEED)
    tensors = {}
    ciou_and_l1(generator, tensors)
    corner_kl(generator, tensors)
    side_kl(generator, tensors)
    feature_mse(generator, tensors)
    bce(generator, tensors)

    tensors = {name: tensor.detach().contiguous() for name, tensor in tensors.items()}
    metadata = {"seed": str(SEED), "torch": torch.__version__}
    save_file(tensors, str(out / "losses.safetensors"), metadata=metadata)
    print(f"wrote {len(tensors)} tensors to {out / 'losses.safetensors'}")


if __name__ == "__main__":
    main()
