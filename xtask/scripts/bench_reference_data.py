"""Time the MixFormerV2 reference's own training data pipeline on the sample data.

Drives the reference's `TrackingSampler`, `MixformerProcessing` and
transforms with the stage-1 settings: two 128 px templates, one 288 px search
region, causal sampler, grayscale / flip / brightness augmentation. The
sequences are those of `cargo bench -p mixformer-data --bench sample_rate`:
OTB Crossing, VOT bag and UAV123 wakeboard7 as one video dataset and the COCO
photos as an image dataset, ratio 1:1. It runs one worker, without a DataLoader.

The reference code is not part of this project: pass a checkout of
MCG-NJU/MixFormerV2 with --reference. Needs torch, torchvision and
opencv-python in the interpreter that runs this script.

    python xtask/scripts/bench_reference_data.py \
        --reference PATH/TO/MixFormerV2 --data ../shared/data --samples 300
"""

import argparse
import json
import sys
import time
import types
from pathlib import Path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True,
                        help="checkout of MCG-NJU/MixFormerV2")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"),
                        help="sample data folder (with sot/ and coco/)")
    parser.add_argument("--samples", type=int, default=300,
                        help="samples timed after as many warm-up samples")
    return parser.parse_args()


def import_reference(reference):
    # The reference's package imports jpeg4py (it falls back to OpenCV) and
    # tensorboardX (for its trainer) at module level. Neither is used here,
    # so stub modules let the data modules import without them.
    sys.modules.setdefault("jpeg4py", types.ModuleType("jpeg4py"))
    tensorboard = types.ModuleType("tensorboardX")
    tensorboard.SummaryWriter = object
    sys.modules.setdefault("tensorboardX", tensorboard)
    sys.path.insert(0, str(reference))
    from lib.train.data import opencv_loader, processing, sampler
    import lib.train.data.transforms as tfm
    return opencv_loader, processing, sampler, tfm


def read_rows(path):
    rows = []
    for line in path.read_text().splitlines():
        fields = [f for f in line.replace(",", " ").replace("\t", " ").split(" ") if f]
        if not fields:
            continue
        values = [float(f) for f in fields]
        if len(values) == 8:
            xs, ys = values[0::2], values[1::2]
            values = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        rows.append(values)
    return rows


class VideoDataset:
    """The reference's dataset interface over plain sequence folders."""

    def __init__(self, torch, loader, sequences):
        self.torch = torch
        self.loader = loader
        # (name, frame paths, boxes)
        self.sequences = sequences

    def get_name(self):
        return "sot"

    def is_video_sequence(self):
        return True

    def get_num_sequences(self):
        return len(self.sequences)

    def get_sequence_info(self, seq_id):
        bbox = self.torch.tensor(self.sequences[seq_id][2], dtype=self.torch.float32)
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        return {"bbox": bbox, "valid": valid, "visible": valid.clone().byte()}

    def get_frames(self, seq_id, frame_ids, anno=None):
        paths = self.sequences[seq_id][1]
        frames = [self.loader(str(paths[f])) for f in frame_ids]
        if anno is None:
            anno = self.get_sequence_info(seq_id)
        anno_frames = {k: [v[f, ...].clone() for f in frame_ids] for k, v in anno.items()}
        return frames, anno_frames, {"object_class_name": None}


class ImageDataset(VideoDataset):
    """COCO boxes as one-frame sequences, repeated for every requested frame."""

    def get_name(self):
        return "coco"

    def is_video_sequence(self):
        return False

    def get_frames(self, seq_id, frame_ids=None, anno=None):
        frame = self.loader(str(self.sequences[seq_id][1][0]))
        if anno is None:
            anno = self.get_sequence_info(seq_id)
        anno_frames = {k: [v[0, ...] for _ in frame_ids] for k, v in anno.items()}
        return [frame.copy() for _ in frame_ids], anno_frames, {"object_class_name": None}


def sample_sequences(data):
    sot = data / "sot"
    crossing = sot / "otb/Crossing"
    bag = sot / "vot/bag"
    wake = sot / "uav123/data_seq/UAV123_10fps/wakeboard7"
    videos = [
        ("Crossing", sorted((crossing / "img").glob("*.jpg")),
         read_rows(crossing / "groundtruth_rect.txt")),
        ("bag", sorted((bag / "color").glob("*.jpg")), read_rows(bag / "groundtruth.txt")),
        ("wakeboard7", sorted(wake.glob("*.jpg")),
         read_rows(sot / "uav123/anno/UAV123_10fps/wakeboard7.txt")),
    ]
    instances = json.loads((data / "coco/annotations/instances_val2017.json").read_text())
    files = {image["id"]: image["file_name"] for image in instances["images"]}
    images = [
        (str(a["id"]), [data / "coco/images/val2017" / files[a["image_id"]]], [a["bbox"]])
        for a in instances["annotations"] if a["iscrowd"] == 0
    ]
    return videos, images


def main():
    args = parse_args()
    import cv2
    import torch
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    opencv_loader, processing, sampler, tfm = import_reference(args.reference)

    videos, images = sample_sequences(args.data)
    datasets = [VideoDataset(torch, opencv_loader, videos),
                ImageDataset(torch, opencv_loader, images)]

    # The stage-1 transforms, as the reference's build_dataloaders sets them up.
    joint = tfm.Transform(tfm.ToGrayscale(probability=0.05),
                          tfm.RandomHorizontalFlip(probability=0.5))
    train = tfm.Transform(tfm.ToTensorAndJitter(0.2),
                          tfm.RandomHorizontalFlip_Norm(probability=0.5),
                          tfm.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))
    data_processing = processing.MixformerProcessing(
        search_area_factor={"template": 2.0, "search": 5.0},
        output_sz={"template": 128, "search": 288},
        center_jitter_factor={"template": 0.0, "search": 4.5},
        scale_jitter_factor={"template": 0.0, "search": 0.5},
        mode="sequence", transform=train, joint_transform=joint)
    tracking_sampler = sampler.TrackingSampler(
        datasets=datasets, p_datasets=[1, 1], samples_per_epoch=args.samples, max_gap=200,
        num_search_frames=1, num_template_frames=2, processing=data_processing,
        frame_sample_mode="causal", train_cls=False)

    for index in range(args.samples):
        tracking_sampler[index]
    cpu_start = time.thread_time()
    start = time.perf_counter()
    for index in range(args.samples):
        sample = tracking_sampler[index]
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu_start
    shapes = (tuple(sample["template_images"].shape), tuple(sample["search_images"].shape))
    print(f"reference samples/s on 1 thread: {args.samples / elapsed:8.1f} "
          f"({args.samples} samples in {elapsed:.2f} s; {args.samples / cpu:.1f} per CPU "
          f"second; template, search shapes {shapes})")
    # Lines `cargo xtask bench` reads.
    print(f"result sample_rate one_thread {args.samples / elapsed:.3f}")
    print(f"result sample_rate cpu_second {args.samples / cpu:.3f}")


if __name__ == "__main__":
    main()
