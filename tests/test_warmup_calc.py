"""warmup_calc and paddle_lr.planning: the COCO17 -> 22720-image numbers, --ann, --json."""
import json

import pytest

from paddle_lr.planning import epochs_of, plan_schedule
from paddle_lr.tools.warmup_calc import main

COCO17 = ["--ref-images", "118287", "--ref-batch", "64", "--ref-warmup-iter", "4000"]


def _json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "images, warm_up_iter",
    [
        (118287, 4000),  # the reference itself
        (22720, 768),  # 4000 * 22720 / 118287 = 768.30, not 767 from 2.16 epochs
        (236574, 8000),  # twice the images, twice the iterations
    ],
)
def test_warmup_keeps_epochs(capsys, images, warm_up_iter):
    plan = _json(capsys, ["--images", str(images), "--batch", "64", *COCO17])
    assert plan["warm_up_iter"] == warm_up_iter
    assert plan["warmup_epochs"] == 4000 * 64 / 118287


def test_steps_and_max_iter(capsys):
    plan = _json(capsys, ["--images", "22720", "--batch", "64", *COCO17,
                          "--lr-steps", "65000", "68000", "--max-iter", "70000"])
    assert plan == {
        "images": 22720,
        "batch": 64,
        "warm_up_iter": 768,
        "warmup_epochs": 4000 * 64 / 118287,
        "lr_steps": [12485, 13061],
        "lr_steps_epochs": [65000 * 64 / 118287, 68000 * 64 / 118287],
        "max_iter": 13445,
        "max_iter_epochs": 70000 * 64 / 118287,
    }


def test_batch_change_same_dataset(capsys):
    # Batch 64 -> 16 on COCO17: four times the iterations.
    plan = _json(capsys, ["--images", "118287", "--batch", "16", *COCO17, "--max-iter", "70000"])
    assert (plan["warm_up_iter"], plan["max_iter"]) == (16000, 280000)


@pytest.mark.parametrize(
    "epochs, images, batch, warm_up_iter",
    [("2", 22720, 64, 710), ("2.1642276835155174", 22720, 64, 768), ("0", 100, 4, 0), ("0.5", 3, 1, 2)],
)
def test_warmup_epochs(capsys, epochs, images, batch, warm_up_iter):
    plan = _json(capsys, ["--images", str(images), "--batch", str(batch), "--warmup-epochs", epochs])
    assert plan == {"images": images, "batch": batch, "warm_up_iter": warm_up_iter,
                    "warmup_epochs": float(epochs)}


def test_ann_counts_images(tmp_path, capsys):
    ann = tmp_path / "instances_train.json"
    ann.write_text(json.dumps({
        "images": [{"id": i, "file_name": f"{i}.jpg", "width": 8, "height": 8} for i in range(1, 23)],
        "annotations": [],
        "categories": [{"id": 1, "name": "shape"}],
    }))
    plan = _json(capsys, ["--ann", str(ann), "--batch", "2", "--warmup-epochs", "3"])
    assert (plan["images"], plan["warm_up_iter"]) == (22, 33)


def test_table(capsys):
    assert main(["--images", "22720", "--batch", "64", *COCO17,
                 "--lr-steps", "65000", "68000", "--max-iter", "70000"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "target: 22720 images, batch 64",
        "reference: 118287 images, batch 64",
        "key             iterations      epochs",
        "warm_up_iter           768      2.1642",
        "lr_steps[0]          12485     35.1687",
        "lr_steps[1]          13061     36.7919",
        "max_iter             13445     37.8740",
    ]


def test_plan_schedule_api():
    plan = plan_schedule(22720, 64, ref_images=118287, ref_batch=64, ref_warmup_iter=4000,
                         lr_steps=[65000, 68000], max_iter=70000)
    assert (plan["warm_up_iter"], plan["lr_steps"], plan["max_iter"]) == (768, [12485, 13061], 13445)
    assert epochs_of(4000, 118287, 64) == 4000 * 64 / 118287


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(), "ref_warmup_iter / warmup_epochs: give exactly one, got none"),
        (dict(ref_warmup_iter=1, warmup_epochs=1, ref_images=5, ref_batch=1),
         "got ref_warmup_iter and warmup_epochs"),
        (dict(warmup_epochs=1, max_iter=5), "ref_images: required with max_iter"),
        (dict(warmup_epochs=1, ref_images=5), "ref_batch: required with ref_images"),
        (dict(warmup_epochs=-1), "warmup_epochs: must be >= 0"),
        (dict(ref_warmup_iter=1, ref_images=5, ref_batch=1, lr_steps=[3, 2]),
         "lr_steps: must be strictly increasing"),
        # Two reference steps that land on the same target iteration.
        (dict(ref_warmup_iter=1, ref_images=1000, ref_batch=1, lr_steps=[100, 101]),
         "lr_steps (converted): must be strictly increasing"),
    ],
)
def test_plan_schedule_rules(kwargs, message):
    from paddle_lr.rules import ConfigError

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_schedule(10, 2, **kwargs)
