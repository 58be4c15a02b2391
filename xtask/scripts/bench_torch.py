"""PyTorch baseline for `cargo xtask bench`: tracking and stage-1 training.

The models are the PyTorch modules of the parity fixtures
(make_model_fixtures.py), which follow the reference (MCG-NJU/MixFormerV2)
operation for operation. The backbone is a one-stream ViT whose blocks run
mixed attention: template queries see the templates, search and
prediction-token queries see every token. The student has the distribution
head on four prediction tokens and the score head, the teacher the CORNER_UP
head with its soft-argmax. Weights are random, since speed does not depend
on them.

Tracking runs the reference tracker's path on every frame: a square crop
around the last box (OpenCV, constant border, bilinear resize), conversion to
a normalised tensor, the full forward over template, online template and
search, the score, and the box mapped back into the frame.

The training step is stage 1 (dense-to-sparse distillation): the teacher's
forward without gradients, the student's forward and backward, the losses
(CIoU, L1, KL of the teacher's marginal corner maps against the student's
side logits), gradient clipping at norm 0.1 and an AdamW step.

Prints lines `result <bench> <case> [<path>] <value>` that xtask reads, where
tracking values are frames per second and training values steps per second.

    python xtask/scripts/bench_torch.py --threads 2 --frames ../shared/data/sot/otb/Crossing
"""

import argparse
import math
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The PyTorch modules of the model fixtures, which follow the reference's
# operations (see make_model_fixtures.py).
from make_model_fixtures import Backbone, CornerHead, DistributionHead, ScoreHead

# Model sizes, as in `VitConfig::student_base` / `student_small` and the
# experiment files of `cargo bench -p mixformer-trainer --bench train_step`.
TRACKING_MODELS = {
    "MixFormerV2-B": dict(dim=768, depth=8, heads=12, mlp_ratio=4.0, template=128, search=288),
    "MixFormerV2-S": dict(dim=768, depth=4, heads=12, mlp_ratio=1.0, template=112, search=224),
}
TRAINING_CASES = {
    # student_tiny_depth4 / teacher_tiny at TRAIN.BATCH_SIZE 4
    "tiny": dict(
        batch=4, template=64, search=128, steps=40,
        student=dict(dim=64, depth=4, heads=4, mlp_ratio=2.0),
        teacher=dict(dim=64, depth=4, heads=4, mlp_ratio=2.0, channels=64),
    ),
    # student_288_depth12 / teacher_mixvit_b at batch 2
    "base": dict(
        batch=2, template=128, search=288, steps=3,
        student=dict(dim=768, depth=12, heads=12, mlp_ratio=4.0),
        teacher=dict(dim=768, depth=12, heads=12, mlp_ratio=4.0, channels=384),
    ),
}
PATCH = 16
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class Student(nn.Module):
    def __init__(self, dim, depth, heads, mlp_ratio, template, search, score=True):
        super().__init__()
        # The reference builds every backbone with drop_path_rate 0.1.
        self.backbone = Backbone(dim, depth, heads, mlp_ratio, PATCH, template, search,
                                 tokens=True, drop_path_rate=0.1)
        self.box_head = DistributionHead(dim, search // 4, search)
        self.score_head = ScoreHead(dim) if score else None

    def forward(self, template, online, search):
        _, tokens, _ = self.backbone(template, online, search)
        boxes, logits = self.box_head(tokens)
        score = self.score_head(tokens) if self.score_head is not None else None
        return boxes, logits, score


class Teacher(nn.Module):
    def __init__(self, dim, depth, heads, mlp_ratio, channels, template, search):
        super().__init__()
        self.backbone = Backbone(dim, depth, heads, mlp_ratio, PATCH, template, search,
                                 tokens=False, drop_path_rate=0.1)
        self.box_head = CornerHead(dim, channels, up=True)

    def forward(self, template, online, search):
        search_tokens, _, _ = self.backbone(template, online, search)
        boxes, prob_tl, prob_br = self.box_head(search_tokens)
        return boxes, (prob_tl, prob_br)


# --- tracking ---------------------------------------------------------------


def crop_around(image, box, factor, size):
    """Square crop of side ceil(sqrt(w h) * factor) centred on the box, padded
    with zeros where it leaves the image, resized to `size`."""
    x, y, w, h = box
    side = math.ceil(math.sqrt(w * h) * factor)
    x1 = round(x + 0.5 * w - side * 0.5)
    y1 = round(y + 0.5 * h - side * 0.5)
    x2, y2 = x1 + side, y1 + side
    rows, cols = image.shape[:2]
    pad = (max(0, -y1), max(0, y2 - rows + 1), max(0, -x1), max(0, x2 - cols + 1))
    window = image[y1 + pad[0]:y2 - pad[1], x1 + pad[2]:x2 - pad[3]]
    window = cv2.copyMakeBorder(window, *pad, cv2.BORDER_CONSTANT)
    return cv2.resize(window, (size, size)), size / side


def to_tensor(crop):
    pixels = (crop.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).contiguous()


def bench_tracking(name, sizes, frames, first_box, warm_up):
    model = Student(sizes["dim"], sizes["depth"], sizes["heads"], sizes["mlp_ratio"],
                    sizes["template"], sizes["search"]).eval()
    template_crop, _ = crop_around(frames[0], first_box, 2.0, sizes["template"])
    template = to_tensor(template_crop)
    online = template.clone()
    state = list(first_box)
    times = []
    with torch.no_grad():
        for index, frame in enumerate(frames[1:]):
            start = time.perf_counter()
            crop, resize = crop_around(frame, state, 4.5, sizes["search"])
            boxes, _, score = model(template, online, to_tensor(crop))
            cx, cy, w, h = xyxy_to_cxcywh(boxes[0] * sizes["search"] / resize).tolist()
            score = torch.sigmoid(score).item()
            half = 0.5 * sizes["search"] / resize
            x = state[0] + 0.5 * state[2] - half + cx - 0.5 * w
            y = state[1] + 0.5 * state[3] - half + cy - 0.5 * h
            state = clip_box([x, y, w, h], frame.shape)
            if index >= warm_up:
                times.append(time.perf_counter() - start)
    fps = 1.0 / statistics.median(times)
    print(f"{name:<16} full forward {fps:8.2f} FPS ({len(times)} frames)")
    print(f"result tracking {name} full {fps:.4f}")


def xyxy_to_cxcywh(box):
    x1, y1, x2, y2 = box.unbind(0)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def clip_box(box, shape, margin=10):
    rows, cols = shape[:2]
    x1 = min(max(0.0, box[0]), cols - margin)
    y1 = min(max(0.0, box[1]), rows - margin)
    x2 = min(max(margin, box[0] + box[2]), cols)
    y2 = min(max(margin, box[1] + box[3]), rows)
    return [x1, y1, max(margin, x2 - x1), max(margin, y2 - y1)]


def read_sequence(folder, count):
    names = sorted((folder / "img").iterdir())[:count]
    frames = [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB) for path in names]
    first = (folder / "groundtruth_rect.txt").read_text().splitlines()[0]
    box = [float(v) for v in first.replace(",", " ").replace("\t", " ").split()]
    return frames, box


# --- training ---------------------------------------------------------------


def ciou_and_l1(pred, target):
    """CIoU loss and L1 of (x1, y1, x2, y2) boxes."""
    eps = 1e-7
    ix1, iy1 = torch.max(pred[:, 0], target[:, 0]), torch.max(pred[:, 1], target[:, 1])
    ix2, iy2 = torch.min(pred[:, 2], target[:, 2]), torch.min(pred[:, 3], target[:, 3])
    inter = (ix2 - ix1).clamp(min=0) * (iy2 - iy1).clamp(min=0)
    pw, ph = pred[:, 2] - pred[:, 0], pred[:, 3] - pred[:, 1]
    tw, th = target[:, 2] - target[:, 0], target[:, 3] - target[:, 1]
    union = pw * ph + tw * th - inter + eps
    iou = inter / union
    cw = torch.max(pred[:, 2], target[:, 2]) - torch.min(pred[:, 0], target[:, 0])
    ch = torch.max(pred[:, 3], target[:, 3]) - torch.min(pred[:, 1], target[:, 1])
    diagonal = cw ** 2 + ch ** 2 + eps
    centre = ((pred[:, 0] + pred[:, 2] - target[:, 0] - target[:, 2]) ** 2
              + (pred[:, 1] + pred[:, 3] - target[:, 1] - target[:, 3]) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(tw / (th + eps)) - torch.atan(pw / (ph + eps))) ** 2
    alpha = v / (1 - iou + v + eps)
    ciou = iou - centre / diagonal - alpha.detach() * v
    return (1 - ciou).mean(), F.l1_loss(pred, target)


def corner_kl(teacher_maps, logits, side):
    """KL of the teacher's marginal corner maps against the student's side logits."""
    tl, br = (m.reshape(-1, side, side) for m in teacher_maps)
    targets = [tl.sum(1), br.sum(1), tl.sum(2), br.sum(2)]  # left, right, top, bottom
    loss = 0.0
    for index, target in enumerate(targets):
        log_p = F.log_softmax(logits[:, index], dim=-1)
        loss = loss + F.kl_div(log_p, target, reduction="batchmean")
    return loss


def bench_training(name, case):
    torch.manual_seed(0)
    s, t = case["student"], case["teacher"]
    student = Student(s["dim"], s["depth"], s["heads"], s["mlp_ratio"], case["template"],
                      case["search"], score=False).train()
    teacher = Teacher(t["dim"], t["depth"], t["heads"], t["mlp_ratio"], t["channels"],
                      case["template"], case["search"]).eval()
    backbone = [p for n, p in student.named_parameters() if n.startswith("backbone")]
    others = [p for n, p in student.named_parameters() if not n.startswith("backbone")]
    optimizer = torch.optim.AdamW(
        [{"params": others, "lr": 4e-4}, {"params": backbone, "lr": 4e-5}], weight_decay=1e-4)
    batch = case["batch"]
    template = torch.randn(batch, 3, case["template"], case["template"])
    online = torch.randn(batch, 3, case["template"], case["template"])
    search = torch.randn(batch, 3, case["search"], case["search"])
    target = torch.tensor([[0.3, 0.35, 0.6, 0.6]]).repeat(batch, 1)
    side = case["search"] // 4

    def step(phases):
        marks = [time.perf_counter()]
        with torch.no_grad():
            _, teacher_maps = teacher(template, online, search)
        boxes, logits, _ = student(template, online, search)
        ciou, l1 = ciou_and_l1(boxes, target)
        loss = 2.0 * ciou + 5.0 * l1 + 5.0 * corner_kl(teacher_maps, logits, side)
        marks.append(time.perf_counter())
        optimizer.zero_grad()
        loss.backward()
        marks.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(student.parameters(), 0.1)
        marks.append(time.perf_counter())
        optimizer.step()
        # The reference's actor reads the loss back for its log every step.
        loss.item()
        marks.append(time.perf_counter())
        for index in range(4):
            phases[index] += marks[index + 1] - marks[index]

    steps = case["steps"]
    step([0.0] * 4)
    phases = [0.0] * 4
    start = time.perf_counter()
    for _ in range(steps):
        step(phases)
    rate = steps / (time.perf_counter() - start)
    forward, backward, clip, adamw = (total / steps for total in phases)
    print(f"{name:<6} batch {batch}: {rate:8.3f} steps/s ({steps} steps)")
    print(f"  per step: forward {forward:.4f} s, backward {backward:.4f} s, clip {clip:.4f} s, "
          f"AdamW {adamw:.4f} s")
    print(f"result train_step {name} {rate:.5f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True, help="intra-op threads")
    parser.add_argument("--frames", type=Path, help="an OTB sequence folder (img/, groundtruth_rect.txt)")
    parser.add_argument("--timed-frames", type=int, default=30)
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--train", nargs="*", default=[], choices=sorted(TRAINING_CASES),
                        help="training cases to time")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.frames is not None:
        frames, box = read_sequence(args.frames, args.warm_up + args.timed_frames + 1)
        for name, sizes in TRACKING_MODELS.items():
            bench_tracking(name, sizes, frames, box, args.warm_up)
    for name in args.train:
        bench_training(name, TRAINING_CASES[name])


if __name__ == "__main__":
    main()
