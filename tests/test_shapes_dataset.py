"""The synthetic shapes dataset: determinism, COCO layout, the loader's targets and batch order."""
import hashlib
import json

import numpy as np
import pytest

from paddle_lr.demo import coco_data as data, detector as model, shapes_dataset as shapes
from paddle_lr.demo.keys import load_config
from paddle_lr.demo.evaluate import coco_box_ap
from paddle_lr.rules import ConfigError
from paddle_lr.tools import make_shapes_dataset


def tree_digest(root):
    """sha256 of every file under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return shapes.make_shapes(tmp_path_factory.mktemp("shapes") / "ds", train=8, val=4, size=48, seed=3)


def test_same_arguments_same_bytes(small, tmp_path):
    again = shapes.make_shapes(tmp_path / "again", train=8, val=4, size=48, seed=3)
    assert tree_digest(again) == tree_digest(small)


def test_other_seed_other_images(small, tmp_path):
    other = shapes.make_shapes(tmp_path / "other", train=8, val=4, size=48, seed=4)
    assert tree_digest(other)["train/000000.png"] != tree_digest(small)["train/000000.png"]


@pytest.mark.parametrize("split, count", [("train", 8), ("val", 4)])
def test_coco_layout(small, split, count):
    coco = json.loads((small / "annotations" / f"instances_{split}.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["rectangle", "ellipse", "triangle"]
    assert [im["id"] for im in coco["images"]] == list(range(1, count + 1))
    assert sorted(p.name for p in (small / split).iterdir()) == [f"{i:06d}.png" for i in range(count)]
    per_image = np.bincount([a["image_id"] for a in coco["annotations"]], minlength=count + 1)[1:]
    assert per_image.min() >= 1 and per_image.max() <= 4
    for ann in coco["annotations"]:
        x, y, w, h = ann["bbox"]
        assert 0 <= x and 0 <= y and x + w <= 48 and y + h <= 48
        assert ann["area"] == w * h and ann["category_id"] in (1, 2, 3)


def test_existing_complete_dataset_is_kept(small):
    before = tree_digest(small)
    assert shapes.make_shapes(small, train=1, val=1, size=32, seed=0) == small
    assert tree_digest(small) == before


def test_partial_directory_is_refused(tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "junk").write_text("x")
    with pytest.raises(ConfigError, match="exists but is not a complete dataset"):
        shapes.make_shapes(tmp_path / "ds", train=1, val=1, size=32)


@pytest.mark.parametrize("generate, outcome", [(True, "written"), (False, "generate_shapes: true")])
def test_ensure_shapes(tmp_path, generate, outcome):
    config = load_config(None, [f"dataset_dir={tmp_path / 'ds'}", f"generate_shapes={str(generate).lower()}",
                                "shapes_train_images=2", "shapes_val_images=1", "image_size=32"])
    if generate:
        assert shapes.is_complete(shapes.ensure_shapes(config))
    else:
        with pytest.raises(ConfigError, match=outcome):
            shapes.ensure_shapes(config)


def test_perfect_outputs_decode_to_ground_truth(small):
    """Targets turned into confident outputs decode to the annotated boxes: AP 1."""
    val = data.CocoDetection(small, "val", 48, model.STRIDE)
    logits = np.where(val.heat == 1.0, 10.0, -10.0).astype(np.float32)
    detections = [
        dict(image_id=image_id, category_id=val.category_ids[label], bbox=box, score=score)
        for image_id, dets in zip(val.image_ids, model.decode(logits, val.reg, val.scales))
        for label, score, box in dets
    ]
    result = coco_box_ap(val.annotation_file, detections)
    assert (result["AP"], result["AP50"]) == (1.0, 1.0)


def test_resized_images_keep_original_coordinates(small):
    """Loading at another side rescales the targets; decoding maps back to the file's pixels."""
    val = data.CocoDetection(small, "val", 32, model.STRIDE)
    assert val.images.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(val.scales, np.full((4, 2), 1.5, dtype=np.float32))
    logits = np.where(val.heat == 1.0, 10.0, -10.0).astype(np.float32)
    decoded = model.decode(logits, val.reg, val.scales)
    coco = json.loads(val.annotation_file.read_text())
    first = sorted(a["bbox"] for a in coco["annotations"] if a["image_id"] == val.image_ids[0])
    np.testing.assert_allclose(sorted(box for _, _, box in decoded[0]), first, atol=1e-3)


@pytest.mark.parametrize("seed, batch, images", [(0, 4, 10), (5, 3, 7), (1, 16, 5)])
def test_batches_cover_each_epoch_once(seed, batch, images):
    order = np.concatenate([data.batch_indices(seed, i, batch, images) for i in range(images * 3)])
    for epoch in range(3 * batch):
        assert sorted(order[epoch * images:(epoch + 1) * images]) == list(range(images))


def test_batch_is_a_function_of_seed_and_iteration():
    np.testing.assert_array_equal(data.batch_indices(7, 123, 8, 50), data.batch_indices(7, 123, 8, 50))
    assert not np.array_equal(data.batch_indices(7, 123, 8, 50), data.batch_indices(8, 123, 8, 50))


def test_shards_partition_the_batch():
    batch = data.batch_indices(0, 3, 6, 20)
    parts = [data.shard(batch, rank, 3) for rank in range(3)]
    np.testing.assert_array_equal(np.concatenate(parts), batch)


@pytest.mark.parametrize("argv, message", [
    (["--train", "0"], "--train: must be >= 1, got 0"),
    (["--size", "16"], "--size: must be >= 32, got 16"),
    (["--seed", "-1"], "--seed: must be >= 0, got -1"),
    (["--val", "x"], "argument --val: invalid int value: 'x'"),
])
def test_cli_bad_arguments(tmp_path, capsys, argv, message):
    assert make_shapes_dataset.main(["--out", str(tmp_path / "ds"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "ds").exists()


def test_cli_writes_dataset_and_refuses_existing(tmp_path, capsys, small):
    out = tmp_path / "ds"
    assert make_shapes_dataset.main(["--out", str(out), "--train", "8", "--val", "4", "--size", "48",
                                     "--seed", "3"]) == 0
    assert tree_digest(out) == tree_digest(small)
    assert make_shapes_dataset.main(["--out", str(out)]) == 2
    assert "--out must not exist yet" in capsys.readouterr().err
