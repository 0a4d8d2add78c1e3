"""The training run behind ``paddle_lr.tools.train``: the demo detector, driven by the cfg.

Two engines train the same :class:`~paddle_lr.demo.detector.TinyCenterNet`
behind one declared interface, :class:`Engine` (``step``, ``predict``,
``save``, ``load``, ``parameters``, ``digest``):

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

:func:`train` is four steps, each a function here: :func:`setup` (scaled cfg,
dataset, engine), :func:`restore` (a snapshot into the engine), :func:`run_loop`
(iterations ``[start, max_iter)``, the batch of iteration ``i`` being a
function of ``(seed, i)`` only, so a resumed run reads exactly the batches an
uninterrupted one would) and :func:`evaluate`. They report through the
``paddle_lr.demo.training`` logger; the tqdm bar shows the lr and the loss.
:func:`train` returns a :class:`TrainRecord`.
"""
import abc
import dataclasses
import hashlib
import json
import logging
import pathlib
import shutil
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import paddle
from paddle.base.unique_name import UniqueNameGenerator
from tqdm import tqdm

from .. import LR_DECAY_COUNTER, checkpoint
from .. import config as config_lib
from .. import planning
from ..optimizer import quiet_place_warning
from . import coco_data as data
from . import detector as model
from . import evaluate as coco_eval
from . import fault, run_lock, snapshot
from . import shapes_dataset as shapes
from .train_log import TrainLog

__all__ = [
    "LOG_NAME",
    "FINAL_NAME",
    "EVAL_NAME",
    "world",
    "Engine",
    "StaticEngine",
    "DygraphEngine",
    "Setup",
    "TrainRecord",
    "setup",
    "restore",
    "run_loop",
    "evaluate",
    "train",
]

LOG_NAME = "train_log.jsonl"
FINAL_NAME = "final"
EVAL_NAME = "eval.json"
_STATE_PREFIX = "model"
_EVAL_BATCH = 32

log = logging.getLogger(__name__)

PathLike = Union[str, pathlib.Path]


def world() -> Tuple[int, int]:
    """This process's place in a ``paddle.distributed.launch`` job.

    Returns:
        tuple: ``(rank, world_size)``; ``(0, 1)`` when not launched.
    """
    env = paddle.distributed.ParallelEnv()
    return env.rank, env.world_size


def _device_id() -> int:
    return paddle.distributed.ParallelEnv().dev_id


class Engine(abc.ABC):
    """What :func:`train` needs from a training engine; both modes implement it.

    Args:
        config (AttrDict): the run's (scaled) cfg.
        num_classes (int): heatmap channels.
        world_size (int): data-parallel processes.
    """

    #: ``"static"`` or ``"dygraph"``; recorded in every snapshot's manifest.
    mode: str = ""

    @abc.abstractmethod
    def step(self, batch: Dict[str, np.ndarray]) -> Tuple[float, float]:
        """Run one training iteration.

        Args:
            batch (dict): ``image``, ``heat``, ``reg``, ``mask`` arrays (this replica's shard).

        Returns:
            tuple: ``(lr, loss)`` as Python floats; ``lr`` is the float32 value this
            step used, the loss is the mean over replicas.
        """

    @abc.abstractmethod
    def predict(self, images: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The detector's outputs on some images (no counter step, no update).

        Args:
            images (ndarray): float32 ``[B, 3, S, S]``.

        Returns:
            tuple: ``(heat_logits, reg)`` numpy arrays.
        """

    @abc.abstractmethod
    def save(self, directory: PathLike) -> None:
        """Write the training state (parameters, momentum, the schedule's step) into ``directory``.

        Args:
            directory (Path): an existing directory.
        """

    @abc.abstractmethod
    def load(self, directory: PathLike, trusted: bool = False) -> None:
        """Restore what :meth:`save` wrote.

        Args:
            directory (Path): a snapshot directory.
            trusted (bool): read its pickles with Paddle's own loader, which runs
                any code they name (:mod:`paddle_lr.pickles`).
        """

    @abc.abstractmethod
    def iterations_done(self) -> Optional[int]:
        """The iterations the step counter (static) or the scheduler (dygraph) has counted.

        Returns:
            int or None: what the state says, after :meth:`load` what the
            snapshot says; None when the schedule keeps no counter.
        """

    @abc.abstractmethod
    def parameters(self) -> Dict[str, np.ndarray]:
        """The model's parameters by name, as numpy arrays."""

    def digest(self) -> str:
        """A sha256 of every parameter's name and bytes, to compare runs and replicas.

        Returns:
            str: the hex digest.
        """
        h = hashlib.sha256()
        for name, value in sorted(self.parameters().items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()


class StaticEngine(Engine):
    """The detector as a static program pair (training and inference) with its own scope.

    Args:
        config (AttrDict): the run's (scaled) cfg.
        num_classes (int): heatmap channels.
        world_size (int): data-parallel processes; > 1 uses fleet collective (GPU builds).
    """

    mode = "static"

    def __init__(self, config, num_classes: int, world_size: int = 1):
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
            with quiet_place_warning():  # an optimizer_wrapper's minimize, too
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
        self._counter_at_start = self._counter()

    def _counter(self):
        found = self.scope.find_var(LR_DECAY_COUNTER)
        if found is None or not found.get_tensor()._is_initialized():
            return None
        return int(np.asarray(found.get_tensor()).reshape(-1)[0])

    def iterations_done(self):
        """The counter's runs since the startup program set it (one per iteration)."""
        counter = self._counter()
        return None if counter is None or self._counter_at_start is None else counter - self._counter_at_start

    def step(self, batch):
        with paddle.static.scope_guard(self.scope):
            loss, lr = self.exe.run(self.main, feed=batch, fetch_list=[self.loss, self.lr])
        return float(np.asarray(lr).reshape(-1)[0]), float(np.asarray(loss).reshape(-1)[0])

    def predict(self, images):
        with paddle.static.scope_guard(self.scope):
            heat_logits, reg = self.exe.run(self.infer, feed={"image": images}, fetch_list=self.outputs)
        return np.asarray(heat_logits), np.asarray(reg)

    def save(self, directory):
        """Write every persistable (parameters, accumulators, counter) with ``paddle.static.save``."""
        with paddle.static.scope_guard(self.scope):
            paddle.static.save(self.main, str(pathlib.Path(directory) / _STATE_PREFIX))

    def load(self, directory, trusted=False):
        """Restore what :meth:`save` wrote, written on either Paddle version (:func:`paddle_lr.load_checkpoint`).

        The branchless schedule's tables come from this run's cfg, not the
        snapshot, so that a resume with a changed schedule follows the new one
        under both lowerings; a snapshot of another model or lowering is refused
        in one line before anything is restored.
        """
        checkpoint.load_checkpoint(self.main, pathlib.Path(directory) / _STATE_PREFIX, self.exe, self.scope,
                                   trusted=trusted)

    def parameters(self):
        return {name: np.array(value) for name, value in self.main.state_dict("param", self.scope).items()}


class DygraphEngine(Engine):
    """The detector in dygraph mode with the dygraph twin of the schedule.

    Args:
        config (AttrDict): the run's (scaled) cfg.
        num_classes (int): heatmap channels.
        world_size (int): data-parallel processes; > 1 wraps the layer in ``paddle.DataParallel``.
    """

    mode = "dygraph"

    def __init__(self, config, num_classes: int, world_size: int = 1):
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
        self._epoch_at_start = self.scheduler.last_epoch

    def iterations_done(self):
        """The scheduler's steps since it was built (one per iteration)."""
        return self.scheduler.last_epoch - self._epoch_at_start

    def step(self, batch):
        """Run one training iteration, then step the scheduler (see :meth:`Engine.step`)."""
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
        with paddle.no_grad():
            heat_logits, reg = self.net(paddle.to_tensor(images))
        return heat_logits.numpy(), reg.numpy()

    def save(self, directory):
        """Write the layer's and the optimizer's state dicts with ``paddle.save``."""
        directory = pathlib.Path(directory)
        paddle.save(self.net.state_dict(), str(directory / f"{_STATE_PREFIX}.pdparams"))
        paddle.save(self.optimizer.state_dict(), str(directory / f"{_STATE_PREFIX}.pdopt"))

    def load(self, directory, trusted=False):
        """Restore what :meth:`save` wrote (parameters, momentum, scheduler step), checked first."""
        snapshot.load_dygraph_state(directory, self.net, self.optimizer, _STATE_PREFIX, trusted)

    def parameters(self):
        return {name: value.numpy() for name, value in self.net.state_dict().items()}


@dataclasses.dataclass
class Setup:
    """What :func:`setup` prepared for a run.

    Attributes:
        config: the cfg scaled for the world size.
        output: the output directory.
        rank, world_size: this process in the launcher's job.
        train_set, val_set: the dataset splits.
        generated: whether the shapes dataset was written by this run.
        engine: the static or dygraph engine.
    """

    config: Any
    output: pathlib.Path
    rank: int
    world_size: int
    train_set: data.CocoDetection
    val_set: data.CocoDetection
    generated: bool
    engine: Engine

    @property
    def writer(self) -> bool:
        """Whether this process writes the log, the snapshots and the evaluation (rank 0)."""
        return self.rank == 0


@dataclasses.dataclass
class TrainRecord:
    """What :func:`train` did, for callers and tests (no need to parse printed text).

    Attributes:
        config: the scaled cfg the run used.
        mode: ``"static"`` or ``"dygraph"``.
        rank, world_size: this process in the launcher's job.
        output: the output directory.
        dataset_generated: whether this run wrote the shapes dataset.
        resumed_from: the snapshot restored, or None.
        start: the first iteration run (the snapshot's iteration on a resume).
        stop: ``max_iter``; iterations ``[start, stop)`` were run unless ``eval_only``.
        lrs, losses: the lr and the loss of each iteration run, in order.
        seconds: wall time of the loop.
        digest: sha256 of the final parameters (:meth:`Engine.digest`).
        lr_digest: sha256 of ``lrs`` as float32 bytes.
        eval: :func:`~paddle_lr.demo.evaluate.coco_box_ap`'s result with ``iteration``
            and ``split``; None on ranks > 0.
    """

    config: Any
    mode: str
    rank: int
    world_size: int
    output: pathlib.Path
    dataset_generated: bool = False
    resumed_from: Optional[pathlib.Path] = None
    start: int = 0
    stop: int = 0
    lrs: List[float] = dataclasses.field(default_factory=list)
    losses: List[float] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    digest: str = ""
    lr_digest: str = ""
    eval: Optional[Dict[str, Any]] = None


def _prepare_dataset(config) -> Tuple[pathlib.Path, bool]:
    root = None if config.dataset_dir is None else pathlib.Path(config.dataset_dir)
    missing = root is not None and config.generate_shapes and not shapes.is_complete(
        root, (config.train_split, config.val_split))
    if missing:
        log.info("generating the shapes dataset in %s (%d train and %d val images of %dx%d, seed %d)",
                 root, config.shapes_train_images, config.shapes_val_images, config.image_size,
                 config.image_size, config.seed)
    return shapes.ensure_shapes(config), missing


def setup(config, output: PathLike, dygraph: bool = False) -> Setup:
    """Scale the cfg for the launcher's world size, make the dataset if asked, build the engine.

    Call it with Paddle's mode already set (:func:`train` does).

    Args:
        config (AttrDict): a validated cfg.
        output (str or Path): the output directory (rank 0 creates it).
        dygraph (bool): build the dygraph engine instead of the static one.

    Returns:
        Setup: the prepared run.
    """
    rank, world_size = world()
    config = planning.scale_for_batch(config, num_devices=world_size)
    if rank == 0:
        root, generated = _prepare_dataset(config)
    else:
        root, generated = shapes.ensure_shapes(config), False
    train_set = data.CocoDetection(root, config.train_split, config.image_size, model.STRIDE)
    val_set = data.CocoDetection(root, config.val_split, config.image_size, model.STRIDE)
    output = pathlib.Path(output)
    if rank == 0:
        output.mkdir(parents=True, exist_ok=True)
    # One math thread: the same sums in the same order in every run.
    paddle.base.core.set_num_threads(1)
    engine = (DygraphEngine if dygraph else StaticEngine)(config, train_set.num_classes, world_size)
    return Setup(config, output, rank, world_size, train_set, val_set, generated, engine)


def restore(engine: Engine, path: PathLike, config, trusted: bool = False) -> Tuple[pathlib.Path, int]:
    """Restore a snapshot into the engine.

    Args:
        engine (Engine): the run's engine.
        path (str or Path): a snapshot, or a directory of ``snapshot_*`` (the newest complete one).
        config (AttrDict): the run's (scaled) cfg; a difference from the snapshot's warns.
        trusted (bool): read the snapshot's pickles with Paddle's own loader (:mod:`paddle_lr.pickles`).

    Returns:
        tuple: ``(snapshot directory, its iteration)``.

    Raises:
        SnapshotError: no usable snapshot, another mode, or beyond ``max_iter``.
        CheckpointError: a static snapshot of another model or lowering (nothing restored).
    """
    directory, manifest = snapshot.find_snapshot(path)
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
    # Load first: a snapshot that cannot be resumed is refused in one line, with no warning before it.
    engine.load(directory, trusted)
    counted = engine.iterations_done()
    if counted is not None and counted != iteration:
        raise snapshot.SnapshotError(
            f"snapshot {directory}: {snapshot.MANIFEST} says iteration {iteration}, the state saved in it "
            f"{counted} (a damaged or rewritten manifest)"
        )
    changed = sorted(k for k in config if manifest["config"].get(k) != config[k])
    if changed:
        warnings.warn(
            f"resume: the cfg differs from the one of {directory} in {', '.join(changed)}",
            snapshot.SnapshotWarning,
            stacklevel=3,
        )
    snapshot.warn_other_version(directory, manifest)
    return directory, iteration


def run_loop(run: Setup, start: int) -> Tuple[List[float], List[float]]:
    """Train iterations ``[start, max_iter)``; rank 0 logs each one and writes the snapshots.

    Args:
        run (Setup): the prepared run.
        start (int): the first iteration.

    Returns:
        tuple: ``(lrs, losses)``, one per iteration run.
    """
    config, engine = run.config, run.engine
    total = planning.total_batch(config)
    lrs, losses = [], []
    train_log = TrainLog(run.output / LOG_NAME, start) if run.writer else None
    bar = tqdm(range(start, config.max_iter), initial=start, total=config.max_iter, desc="train",
               disable=not run.writer, dynamic_ncols=True)
    for i in bar:
        indices = data.shard(data.batch_indices(config.seed, i, total, len(run.train_set)), run.rank, run.world_size)
        lr, loss = engine.step(run.train_set.batch(indices))
        lrs.append(lr)
        losses.append(loss)
        if not run.writer:
            continue
        train_log.write(i, lr, loss)
        bar.set_postfix(lr=f"{lr:.6g}", loss=f"{loss:.4f}", refresh=False)
        done = i + 1
        fault.point("iter", done)
        if done % config.snapshot_iter == 0:
            snapshot.write_snapshot(snapshot.snapshot_dir(run.output, done), done, config, engine.mode, engine.save)
    bar.close()
    if run.writer:
        train_log.close()
        snapshot.write_snapshot(run.output / FINAL_NAME, config.max_iter, config, engine.mode, engine.save,
                                point="final")
    return lrs, losses


def evaluate(run: Setup, iteration: int) -> Dict[str, Any]:
    """Box AP of the val split with the engine's current parameters; writes ``<output>/eval.json``.

    Args:
        run (Setup): the prepared run (rank 0).
        iteration (int): the iterations the parameters were trained for.

    Returns:
        dict: :func:`~paddle_lr.demo.evaluate.coco_box_ap`'s result plus ``iteration`` and ``split``.
    """
    val_set = run.val_set
    detections = []
    for first in range(0, len(val_set), _EVAL_BATCH):
        part = slice(first, first + _EVAL_BATCH)
        heat_logits, reg = run.engine.predict(val_set.images[part])
        per_image = model.decode(heat_logits, reg, val_set.scales[part])
        for image_id, dets in zip(val_set.image_ids[part], per_image):
            for label, score, box in dets:
                detections.append(
                    dict(image_id=image_id, category_id=val_set.category_ids[label], bbox=box, score=score)
                )
    result = dict(coco_eval.coco_box_ap(val_set.annotation_file, detections),
                  iteration=iteration, split=run.config.val_split)
    with open(run.output / EVAL_NAME, "w", encoding="utf-8") as f:
        json.dump({k: result[k] for k in ("iteration", "split", "AP", "AP50", "stats")}, f, indent=1)
    log.info("eval %s (%d images, iteration %d): AP %.4f AP50 %.4f",
             run.config.val_split, len(val_set), iteration, result["AP"], result["AP50"])
    return result


def _in_mode(dygraph: bool, body: Callable[[], Any]) -> Any:
    """Run ``body`` in dygraph or static mode, then put Paddle's mode back."""
    was_dynamic = paddle.in_dynamic_mode()
    if dygraph:
        paddle.disable_static()
    else:
        paddle.enable_static()
    try:
        return body()
    finally:
        if was_dynamic:
            paddle.disable_static()
        else:
            paddle.enable_static()


def train(config, output: PathLike, resume: Optional[PathLike] = None, dygraph: bool = False,
          eval_only: bool = False, trust_checkpoint: bool = False, replace_log: bool = False) -> TrainRecord:
    """Train (or only evaluate) the demo detector as the cfg says, then report box AP.

    :func:`setup`, :func:`restore` when asked, :func:`run_loop` unless
    ``eval_only`` or nothing is left, then :func:`evaluate` on rank 0. Rank 0
    writes ``<output>/train_log.jsonl`` (one line per iteration), the
    snapshots and ``<output>/eval.json``.

    Args:
        config (AttrDict): a validated cfg.
        output (str or Path): the output directory.
        resume (str or Path, optional): a snapshot, or a directory of ``snapshot_*``
            (the newest complete one is used).
        dygraph (bool): train in dygraph mode instead of the static graph.
        eval_only (bool): evaluate the initial (or resumed) parameters, no training.
        trust_checkpoint (bool): read the resumed snapshot's pickles with Paddle's
            own loader, which runs any code they name; by default only what
            Paddle's save writes is admitted (:mod:`paddle_lr.pickles`).
        replace_log (bool): allow resuming another run's snapshot (one outside
            ``output``) into an ``output`` that has a log of its own, whose lines
            from the snapshot's iteration on are then replaced; refused otherwise.

    Returns:
        TrainRecord: what was run and measured.

    Raises:
        OutputBusyError: another trainer is running on ``output`` (:mod:`.run_lock`).
    """
    # One trainer per output directory: a second one refuses here, before writing anything.
    with run_lock.output_lock(output, take=world()[0] == 0):
        return _in_mode(dygraph, lambda: _train(config, output, resume, dygraph, eval_only, trust_checkpoint,
                                                replace_log))


def _refuse_another_runs_snapshot(directory, output):
    """A snapshot from outside ``output`` must not silently replace the lines of ``output``'s own log."""
    log_path = output / LOG_NAME
    if directory.resolve().parent == output.resolve() or not log_path.is_file() or log_path.stat().st_size == 0:
        return
    raise snapshot.SnapshotError(
        f"resume: {directory} is another run's snapshot and {log_path} is this output's own log: resuming "
        "would replace its lines from the snapshot's iteration on (and final/, eval.json); "
        "add --replace-log to do that, or give a new --output"
    )


def _complete_final(run: Setup, resumed_from: pathlib.Path) -> None:
    """Write ``final/`` when it is missing or damaged (a run killed while writing it).

    Its state files are the resumed snapshot's, copied: that snapshot is at
    ``max_iter``, so they are what the run would have written (and a dygraph
    optimizer's state does not round-trip before its first step on 2.6).
    """
    final = run.output / FINAL_NAME
    try:
        snapshot.verify_snapshot(final)
        return
    except snapshot.SnapshotError:
        pass
    files = snapshot.verify_snapshot(resumed_from)["files"]
    config = run.config

    def copy(directory):
        for name in files:
            shutil.copyfile(resumed_from / name, directory / name)

    snapshot.write_snapshot(final, config.max_iter, config, run.engine.mode, copy, point="final")
    log.info("completed %s from %s", final, resumed_from)


def _train(config, output, resume_from, dygraph, eval_only, trusted, replace_log) -> TrainRecord:
    run = setup(config, output, dygraph)
    config, engine = run.config, run.engine
    record = TrainRecord(config=config, mode=engine.mode, rank=run.rank, world_size=run.world_size,
                         output=run.output, dataset_generated=run.generated, stop=config.max_iter)
    if resume_from is not None:
        record.resumed_from, record.start = restore(engine, resume_from, config, trusted)
        if run.writer and not replace_log:
            _refuse_another_runs_snapshot(record.resumed_from, run.output)
        if run.writer:
            log.info("resumed from %s at iteration %d", record.resumed_from, record.start)
    if eval_only:
        pass
    elif record.start >= config.max_iter:
        if run.writer:
            log.info("nothing left to train: %s is at iteration %d = max_iter", record.resumed_from, record.start)
            _complete_final(run, record.resumed_from)
    else:
        began = time.perf_counter()
        record.lrs, record.losses = run_loop(run, record.start)
        record.seconds = time.perf_counter() - began
        if run.writer:
            log.info("trained iterations %d..%d in %.1f s (%s, %d process(es))", record.start,
                     config.max_iter - 1, record.seconds, engine.mode, run.world_size)
    record.digest = engine.digest()
    record.lr_digest = hashlib.sha256(np.asarray(record.lrs, dtype=np.float32).tobytes()).hexdigest()
    if run.world_size > 1:
        log.info("replica %d/%d: lr sha256 %s, parameters sha256 %s", run.rank, run.world_size,
                 record.lr_digest, record.digest)
    if run.writer:
        trained = record.start if eval_only else config.max_iter
        record.eval = evaluate(run, trained)
    return record
