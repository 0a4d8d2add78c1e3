"""paddle_lr: fluid's in-graph warmup + step-decay learning rate on Paddle 2.6 and 3.x."""
import os
import warnings

# Quiet Paddle's C++ INFO/WARNING logging (executor banners, a PIR note on every
# in-place assign) unless the user chose a level; it is read once, at Paddle's import.
os.environ.setdefault("GLOG_minloglevel", "2")
# Paddle warns at import when ccache (for compiling custom ops) is missing; paddle_lr compiles nothing.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)

# paddlepaddle 2.6's libpaddle.so exports an older zlib into the global symbol
# scope: a zlib user loaded after it (Pillow's PNG codec, matplotlib's savefig)
# binds to that one and crashes (2.6.2: a PNG decoded after ``import paddle``
# segfaults in inflateReset2). The standard library's zlib module, loaded
# first, brings the system's libz, which they then all bind to; no PIL needed
# (tests/test_install.py decodes a PNG after ``import paddle_lr, paddle``).
import zlib  # noqa: E402,F401

from .rules import ConfigError, ConfigTypeError, ScheduleWarning
from .graph.counter import LR_DECAY_COUNTER, autoincreased_step_counter, decay_step_counter
from .graph.ir import clone_for_test
from .graph.switch import Switch
from .graph.layers import assign, create_global_var, fill_constant
from .optimizer import SGD, Adam, AdamW, L2Decay, Momentum, RMSProp, set_gradient_clip
from .schedules.warmup_piecewise import WarmupPiecewiseDecay, boundary_values, lr_at, reload_tables
from .checkpoint import CheckpointError, LoadedCheckpoint, load_checkpoint, save_checkpoint
from .schedules.registry import REGISTRY, Schedule
from .schedules.twin import FluidScheduler
from . import config

# Every schedule's public function, by its fluid name (piecewise_decay, ..., exponential_with_warmup_decay):
# the registry's, which holds every module of paddle_lr/schedules/.
globals().update({name: schedule.build for name, schedule in REGISTRY.items()})

__all__ = [
    "create_global_var",
    "fill_constant",
    "assign",
    "Switch",
    "Momentum",
    "SGD",
    "RMSProp",
    "Adam",
    "AdamW",
    "L2Decay",
    "set_gradient_clip",
    "autoincreased_step_counter",
    "LR_DECAY_COUNTER",
    "decay_step_counter",
    "boundary_values",
    "lr_at",
    "reload_tables",
    "clone_for_test",
    "WarmupPiecewiseDecay",
    "REGISTRY",
    "Schedule",
    "FluidScheduler",
    "config",
    "ConfigError",
    "ConfigTypeError",
    "ScheduleWarning",
    "load_checkpoint",
    "save_checkpoint",
    "LoadedCheckpoint",
    "CheckpointError",
    *REGISTRY,
]
