"""The training run behind ``tools/train.py``: the demo detector, driven by the cfg.

Two engines train the same :class:`~paddle_lr.demo.detector.TinyCenterNet` with the
same interface (``step``, ``predict``, ``save``, ``load``):

:class:`StaticEngine`
    A static program whose learning rate is the in-graph
    ``exponential_with_warmup_decay`` tensor (``build_lr`` in static mode),
    read from the persistable ``@LR_DECAY_COUNTER@``. Snapshots are
    ``paddle.static.save`` of the program: parameters, momentum accumulators,
    the counter. Under a launcher with several processes it uses fleet's
    collective optimizer, which needs a GPU build.
:class:`DygraphEngine`
    The dygraph twin (``build_lr`` returns ``WarmupPiecewiseDecay``, stepped
    once per iteration), wrapped in ``paddle.DataParallel`` when launched with
    several processes. Snapshots are ``paddle.save`` of the layer's and the
    optimizer's state dicts (the latter holds the scheduler's step).

:func:`train` runs iterations ``[start, max_iter)``, the batch of iteration
``i`` being a function of ``(seed, i)`` only, so a resumed run reads exactly
the batches an uninterrupted one would.
"""
import hashlib
import json
import pathlib
import time
import warnings

import numpy as np
import paddle
from paddle.base.unique_name import UniqueNameGenerator
from tqdm import tqdm

from .. import config as config_lib
from .. import planning
from ..schedules import warmup_piecewise as schedule
from . import coco_data as data
from . import detector as model
from . import evaluate, fault, snapshot
from . import shapes_dataset as shapes
from .train_log import TrainLog

__all__ = ["LOG_NAME", "FINAL_NAME", "world", "StaticEngine", "DygraphEngine", "train"]

LOG_NAME = "train_log.jsonl"
FINAL_NAME = "final"
_STATE_PREFIX = "model"
_EVAL_BATCH = 32


def world():
    """This process's place in a ``paddle.distributed.launch`` job.

    Returns:
        tuple: ``(rank, world_size)``; ``(0, 1)`` when not launched.
    """
    env = paddle.distributed.ParallelEnv()
    return env.rank, env.world_size


def _device_id():
    return paddle.distributed.ParallelEnv().dev_id


class StaticEngine:
    """The detector as a static program pair (training and inference) with its own scope.

    Args:
        config (AttrDict): the run's (scaled) cfg.
        num_classes (int): heatmap channels.
        world_size (int): data-parallel processes; > 1 uses fleet collective (GPU builds).
    """

    mode = "static"

    def __init__(self, config, num_classes, world_size=1):
        size = config.image_size
        grid = size // model.STRIDE
        optimizer_wrapper = None
        if world_size > 1:
            from paddle.distributed import fleet

            fleet.init(is_collective=True)
            optimizer_wrapper = fleet.distributed_optimizer
        paddle.seed(config.seed)
        self.main, startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(self.main, startup):
            image = paddle.static.data("image", [None, 3, size, size], "float32")
            heat = paddle.static.data("heat", [None, num_classes, grid, grid], "float32")
            reg = paddle.static.data("reg", [None, 4, grid, grid], "float32")
            mask = paddle.static.data("mask", [None, 1, grid, grid], "float32")
            heat_logits, reg_pred = model.TinyCenterNet(num_classes)(image)
            self.loss = model.centernet_loss(heat_logits, reg_pred, heat, reg, mask)
            self.lr = config_lib.build_lr(config)
            optimizer = config_lib.build_optimizer(config, self.lr)
            if optimizer_wrapper is not None:
                optimizer = optimizer_wrapper(optimizer)
            with warnings.catch_warnings():
                # PIR's backward asks a Value for its place and warns that it has none.
                warnings.filterwarnings("ignore", message="Tensor do not have 'place'")
                optimizer.minimize(self.loss)
        # Built under a fresh name guard, the inference program names its
        # parameters as the training one does, so both read the same scope entries.
        self.infer = paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(self.infer, paddle.static.Program()):
            image = paddle.static.data("image", [None, 3, size, size], "float32")
            self.outputs = list(model.TinyCenterNet(num_classes)(image))
        place = paddle.CUDAPlace(_device_id()) if paddle.is_compiled_with_cuda() else paddle.CPUPlace()
        self.scope = paddle.static.Scope()
        self.exe = paddle.static.Executor(place)
        with paddle.static.scope_guard(self.scope):
            self.exe.run(startup)

    def step(self, batch):
        """Run one training iteration.

        Args:
            batch (dict): ``image``, ``heat``, ``reg``, ``mask`` arrays.

        Returns:
            tuple: ``(lr, loss)`` as Python floats; ``lr`` is the float32 value this step used.
        """
        with paddle.static.scope_guard(self.scope):
            loss, lr = self.exe.run(self.main, feed=batch, fetch_list=[self.loss, self.lr])
        return float(np.asarray(lr).reshape(-1)[0]), float(np.asarray(loss).reshape(-1)[0])

    def predict(self, images):
        """The detector's outputs on some images (no counter step, no update).

        Args:
            images (ndarray): float32 ``[B, 3, S, S]``.

        Returns:
            tuple: ``(heat_logits, reg)`` numpy arrays.
        """
        with paddle.static.scope_guard(self.scope):
            heat_logits, reg = self.exe.run(self.infer, feed={"image": images}, fetch_list=self.outputs)
        return np.asarray(heat_logits), np.asarray(reg)

    def save(self, directory):
        """Write every persistable (parameters, accumulators, counter) with ``paddle.static.save``.

        Args:
            directory (Path): an existing directory.

        Returns:
            None.
        """
        with paddle.static.scope_guard(self.scope):
            paddle.static.save(self.main, str(pathlib.Path(directory) / _STATE_PREFIX))

    def load(self, directory):
        """Restore what :meth:`save` wrote, with ``paddle.static.load``.

        The branchless schedule's tables come from this run's cfg, not the
        snapshot, so that a resume with a changed schedule follows the new one
        under both lowerings.

        Args:
            directory (Path): a snapshot directory.

        Returns:
            None.
        """
        with paddle.static.scope_guard(self.scope):
            paddle.static.load(self.main, str(pathlib.Path(directory) / _STATE_PREFIX), self.exe)
            schedule.reload_tables(self.main, self.scope)


class DygraphEngine:
    """The detector in dygraph mode with the dygraph twin of the schedule.

    Args:
        config (AttrDict): the run's (scaled) cfg.
        num_classes (int): heatmap channels.
        world_size (int): data-parallel processes; > 1 wraps the layer in ``paddle.DataParallel``.
    """

    mode = "dygraph"

    def __init__(self, config, num_classes, world_size=1):
        if paddle.is_compiled_with_cuda():
            paddle.set_device(f"gpu:{_device_id()}")
        else:
            paddle.set_device("cpu")
        if world_size > 1:
            paddle.distributed.init_parallel_env()
        paddle.seed(config.seed)
        # The engine's own name generator: the parameters and the momentum
        # accumulators (created at the first step) get the same names in every
        # engine, so a snapshot's optimizer state matches in any process.
        self._names = UniqueNameGenerator()
        with paddle.utils.unique_name.guard(self._names):
            self.net = model.TinyCenterNet(num_classes)
            self.scheduler = config_lib.build_lr(config)
            self.optimizer = config_lib.build_optimizer(config, self.scheduler, parameters=self.net.parameters())
        self.world_size = world_size
        self.model = paddle.DataParallel(self.net) if world_size > 1 else self.net

    def step(self, batch):
        """Run one training iteration, then step the scheduler.

        Args:
            batch (dict): ``image``, ``heat``, ``reg``, ``mask`` arrays (this replica's shard).

        Returns:
            tuple: ``(lr, loss)`` as Python floats; the loss is the mean over replicas.
        """
        lr = self.optimizer.get_lr()
        with paddle.utils.unique_name.guard(self._names):
            heat_logits, reg = self.model(paddle.to_tensor(batch["image"]))
            loss = model.centernet_loss(
                heat_logits, reg, *(paddle.to_tensor(batch[k]) for k in ("heat", "reg", "mask"))
            )
            loss.backward()
            self.optimizer.step()
            self.optimizer.clear_grad()
        self.scheduler.step()
        if self.world_size > 1:
            loss = loss.detach().clone()
            paddle.distributed.all_reduce(loss)
            loss = loss / self.world_size
        return float(lr), float(loss)

    def predict(self, images):
        """The detector's outputs on some images.

        Args:
            images (ndarray): float32 ``[B, 3, S, S]``.

        Returns:
            tuple: ``(heat_logits, reg)`` numpy arrays.
        """
        with paddle.no_grad():
            heat_logits, reg = self.net(paddle.to_tensor(images))
        return heat_logits.numpy(), reg.numpy()

    def save(self, directory):
        """Write the layer's and the optimizer's state dicts with ``paddle.save``.

        Args:
            directory (Path): an existing directory.

        Returns:
            None.
        """
        directory = pathlib.Path(directory)
        paddle.save(self.net.state_dict(), str(directory / f"{_STATE_PREFIX}.pdparams"))
        paddle.save(self.optimizer.state_dict(), str(directory / f"{_STATE_PREFIX}.pdopt"))

    def load(self, directory):
        """Restore what :meth:`save` wrote (parameters, momentum, scheduler step).

        Args:
            directory (Path): a snapshot directory.

        Returns:
            None.
        """
        directory = pathlib.Path(directory)
        self.net.set_state_dict(paddle.load(str(directory / f"{_STATE_PREFIX}.pdparams")))
        self.optimizer.set_state_dict(paddle.load(str(directory / f"{_STATE_PREFIX}.pdopt")))

    def digest(self):
        """A sha256 of every parameter's name and float32 bytes, to compare replicas.

        Returns:
            str: the hex digest.
        """
        h = hashlib.sha256()
        for name, value in sorted(self.net.state_dict().items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value.numpy()).tobytes())
        return h.hexdigest()


def _restore(engine, resume, config):
    directory, manifest = snapshot.find_snapshot(resume)
    if manifest["mode"] != engine.mode:
        raise snapshot.SnapshotError(
            f"resume: {directory} is a {manifest['mode']} snapshot, this run is {engine.mode} "
            "(add or drop --dygraph)"
        )
    iteration = manifest["iteration"]
    if iteration > config.max_iter:
        raise snapshot.SnapshotError(
            f"resume: {directory} is at iteration {iteration}, beyond max_iter={config.max_iter}"
        )
    changed = sorted(k for k in config if manifest["config"].get(k) != config[k])
    if changed:
        warnings.warn(
            f"resume: the cfg differs from the one of {directory} in {', '.join(changed)}",
            snapshot.SnapshotWarning,
            stacklevel=3,
        )
    engine.load(directory)
    return directory, iteration


def _evaluate(engine, val_set):
    detections = []
    for first in range(0, len(val_set), _EVAL_BATCH):
        part = slice(first, first + _EVAL_BATCH)
        heat_logits, reg = engine.predict(val_set.images[part])
        per_image = model.decode(heat_logits, reg, val_set.scales[part])
        for image_id, dets in zip(val_set.image_ids[part], per_image):
            for label, score, box in dets:
                detections.append(
                    dict(image_id=image_id, category_id=val_set.category_ids[label], bbox=box, score=score)
                )
    return evaluate.coco_box_ap(val_set.annotation_file, detections)


def _run_iterations(engine, config, train_set, output, start, rank, world_size):
    total = planning.total_batch(config)
    writer = rank == 0
    lrs = []
    log = TrainLog(output / LOG_NAME, start) if writer else None
    bar = tqdm(range(start, config.max_iter), initial=start, total=config.max_iter, desc="train",
               disable=not writer, dynamic_ncols=True)
    for i in bar:
        indices = data.shard(data.batch_indices(config.seed, i, total, len(train_set)), rank, world_size)
        lr, loss = engine.step(train_set.batch(indices))
        lrs.append(lr)
        if not writer:
            continue
        log.write(i, lr, loss)
        bar.set_postfix(lr=f"{lr:.6g}", loss=f"{loss:.4f}", refresh=False)
        done = i + 1
        fault.point("iter", done)
        if done % config.snapshot_iter == 0:
            snapshot.write_snapshot(snapshot.snapshot_dir(output, done), done, config, engine.mode, engine.save)
    bar.close()
    if writer:
        log.close()
        snapshot.write_snapshot(output / FINAL_NAME, config.max_iter, config, engine.mode, engine.save)
    return lrs


def train(config, output, resume=None, dygraph=False, eval_only=False):
    """Train (or only evaluate) the demo detector as the cfg says, then report box AP.

    ``scale_for_batch`` is applied for the launcher's world size first. The
    dataset is written when missing and ``generate_shapes`` is set. Rank 0
    writes ``<output>/train_log.jsonl`` (one line per iteration), the
    snapshots and ``<output>/eval.json``; it prints the AP line.

    Args:
        config (AttrDict): a validated cfg.
        output (str or Path): the output directory.
        resume (str or Path, optional): a snapshot, or a directory of ``snapshot_*``
            (the newest complete one is used).
        dygraph (bool): train in dygraph mode instead of the static graph.
        eval_only (bool): evaluate the initial (or resumed) parameters, no training.

    Returns:
        dict: ``config`` (the scaled cfg), ``start`` (the first iteration run),
        ``lrs`` (the lr of each iteration run), ``eval`` (:func:`coco_box_ap`'s
        result, None on ranks > 0) and ``digest`` (dygraph: the parameters' sha256).
    """
    rank, world_size = world()
    config = planning.scale_for_batch(config, num_devices=world_size)
    root = shapes.ensure_shapes(config)
    train_set = data.CocoDetection(root, config.train_split, config.image_size, model.STRIDE)
    val_set = data.CocoDetection(root, config.val_split, config.image_size, model.STRIDE)
    output = pathlib.Path(output)
    if rank == 0:
        output.mkdir(parents=True, exist_ok=True)
    # One math thread: the same sums in the same order in every run.
    paddle.base.core.set_num_threads(1)
    was_dynamic = paddle.in_dynamic_mode()
    if dygraph:
        paddle.disable_static()
    else:
        paddle.enable_static()
    try:
        engine = (DygraphEngine if dygraph else StaticEngine)(config, train_set.num_classes, world_size)
        start = 0
        if resume is not None:
            where, start = _restore(engine, resume, config)
            if rank == 0:
                print(f"resumed from {where} at iteration {start}")
        lrs = []
        if not eval_only:
            began = time.perf_counter()
            lrs = _run_iterations(engine, config, train_set, output, start, rank, world_size)
            if rank == 0:
                print(f"trained iterations {start}..{config.max_iter - 1} in "
                      f"{time.perf_counter() - began:.1f} s ({engine.mode}, {world_size} process(es))")
        digest = engine.digest() if dygraph else None
        if world_size > 1 and dygraph:
            lr_digest = hashlib.sha256(np.asarray(lrs, dtype=np.float32).tobytes()).hexdigest()
            print(f"replica {rank}/{world_size}: lr sha256 {lr_digest}, parameters sha256 {digest}", flush=True)
        result = None
        if rank == 0:
            result = _evaluate(engine, val_set)
            iteration = start if eval_only else config.max_iter
            with open(output / "eval.json", "w", encoding="utf-8") as f:
                json.dump(dict(iteration=iteration, split=config.val_split, AP=result["AP"],
                               AP50=result["AP50"], stats=result["stats"]), f, indent=1)
            print(f"eval {config.val_split} ({len(val_set)} images, iteration {iteration}): "
                  f"AP {result['AP']:.4f} AP50 {result['AP50']:.4f}")
    finally:
        if was_dynamic:
            paddle.disable_static()
        else:
            paddle.enable_static()
    return dict(config=config, start=start, lrs=lrs, eval=result, digest=digest)
