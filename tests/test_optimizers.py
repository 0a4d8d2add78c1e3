"""paddle_lr's SGD, Momentum, RMSProp, Adam and AdamW against Paddle's own, bit for bit, and Momentum against numpy.

The same program is built twice: once with paddle_lr's optimizer reading the
in-graph lr tensor of a schedule, once with Paddle's optimizer and an
``LRScheduler`` stepped on the host that yields the same float32 value at each
step. After every step the parameters and every optimizer accumulator must
hold the same bits. Momentum (fluid's optimizer of the R-CNN recipe) is also
held to a numpy momentum-with-L2 reference, in static and dygraph mode.
"""
import inspect

import numpy as np
import paddle
import pytest

import paddle_lr

# Paddle's own optimizers (the references here) warn so under PIR; paddle_lr's do not.
pytestmark = pytest.mark.filterwarnings("ignore:Tensor do not have 'place':UserWarning")

STEPS = 9
SCHEDULE = dict(learning_rate=0.1, boundaries=[5, 7], values=[0.1, 0.05, 0.02],
                warmup_iter=4, warmup_factor=0.3)
LRS = [paddle_lr.lr_at(s, **SCHEDULE) for s in range(STEPS)]


class Replay(paddle.optimizer.lr.LRScheduler):
    """A host-side scheduler that yields given float32 values, one per step."""

    def __init__(self, values):
        self.values = [float(v) for v in values]
        super().__init__(self.values[0])

    def get_lr(self):
        return self.values[min(self.last_epoch, len(self.values) - 1)]


def batches(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal([8, 4]).astype(np.float32),
             rng.standard_normal([8, 3]).astype(np.float32)) for _ in range(STEPS)]


W0 = np.random.default_rng(1).standard_normal([4, 3]).astype(np.float32)
B0 = np.linspace(-0.5, 0.5, 3, dtype=np.float32)


def _paddle_kwargs(ours):
    """Our keyword arguments in Paddle's spelling (Momentum's fluid keywords)."""
    out = dict(ours)
    if "regularization" in out:
        out["weight_decay"] = paddle.regularizer.L2Decay(out.pop("regularization")._coeff)
    return out


# id -> (our class, Paddle's class, keyword arguments)
OPTIMIZERS = {
    "sgd": (paddle_lr.SGD, paddle.optimizer.SGD, {}),
    "sgd-l2": (paddle_lr.SGD, paddle.optimizer.SGD, dict(weight_decay=paddle.regularizer.L2Decay(0.01))),
    "momentum": (paddle_lr.Momentum, paddle.optimizer.Momentum, dict(momentum=0.9)),
    "momentum-l2": (paddle_lr.Momentum, paddle.optimizer.Momentum,
                    dict(momentum=0.9, weight_decay=paddle_lr.L2Decay(regularization_coeff=0.01))),
    "momentum-nesterov-fluid-l2": (
        paddle_lr.Momentum, paddle.optimizer.Momentum,
        dict(momentum=0.9, use_nesterov=True, regularization=paddle_lr.L2Decay(regularization_coeff=0.01))),
    "rmsprop": (paddle_lr.RMSProp, paddle.optimizer.RMSProp, dict(rho=0.9, epsilon=1e-6)),
    "rmsprop-centered-momentum": (
        paddle_lr.RMSProp, paddle.optimizer.RMSProp, dict(rho=0.9, epsilon=1e-6, momentum=0.5, centered=True)),
    "adam": (paddle_lr.Adam, paddle.optimizer.Adam, {}),
    "adam-l2": (paddle_lr.Adam, paddle.optimizer.Adam, dict(beta1=0.8, weight_decay=paddle.regularizer.L2Decay(0.01))),
    "adamw": (paddle_lr.AdamW, paddle.optimizer.AdamW, dict(weight_decay=0.05)),
    "adamw-decay-w-only": (
        paddle_lr.AdamW, paddle.optimizer.AdamW,
        dict(weight_decay=0.05, apply_decay_param_fun=lambda name: name.startswith("w"))),
}


def build(optimizer, learning_rate):
    """A linear model; ``b`` has a per-parameter lr of 0.5, so the lr is also scaled in the graph."""
    x = paddle.static.data("x", [8, 4], "float32")
    t = paddle.static.data("t", [8, 3], "float32")
    w = paddle.static.create_parameter([4, 3], "float32", name="w",
                                       default_initializer=paddle.nn.initializer.Assign(W0))
    b = paddle.static.create_parameter([3], "float32", attr=paddle.ParamAttr(name="b", learning_rate=0.5),
                                       default_initializer=paddle.nn.initializer.Assign(B0))
    loss = paddle.mean((paddle.matmul(x, w) + b - t) ** 2)
    is_factory = callable(learning_rate) and not isinstance(learning_rate, paddle.optimizer.lr.LRScheduler)
    lr = learning_rate() if is_factory else learning_rate
    opt = optimizer(lr)
    opt.minimize(loss)
    return dict(lr=lr, opt=opt, params=[w, b])


def state_names(opt):
    """The parameters' and every accumulator's persistable names, sorted."""
    names = ["w", "b"]
    for per_param in opt._accumulators.values():
        names += [var.name for var in per_param.values()]
    return sorted(names)


def run_both(runner, ours, theirs, ours_lr, theirs_lr, host_schedulers=()):
    """Run both programs STEPS times; yield (step, {name: (our array, their array)}, our lr)."""
    a = runner(lambda: build(ours, ours_lr))
    b = runner(lambda: build(theirs, theirs_lr))
    names = state_names(a.outputs["opt"])
    assert names == state_names(b.outputs["opt"]), "the two programs hold different optimizer state"
    fetch_lr = [a.outputs["lr"]] if paddle_lr.graph.ir.is_static_value(a.outputs["lr"]) else []
    for step, (x, t) in enumerate(batches()):
        got_lr = a.run(fetch_lr, feed={"x": x, "t": t})
        b.run([], feed={"x": x, "t": t})
        for scheduler in host_schedulers:
            scheduler.step()
        yield step, {n: (a.tensor(n), b.tensor(n)) for n in names}, (got_lr[0] if got_lr else None)


def assert_same_state(step, state, what):
    for name, (got, expected) in state.items():
        diff = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
        assert diff.size == 0, (
            f"{what}, step {step}: {name} differs at {diff.size} of {got.size} entries; first [{diff[0]}]: "
            f"ours {got.ravel()[diff[0]]!r}, Paddle's {expected.ravel()[diff[0]]!r}")


@pytest.mark.parametrize("impl", ["switch", "branchless"])
@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_tensor_lr_updates_as_paddle_with_a_host_scheduler(runner, key, impl):
    ours, theirs, kwargs = OPTIMIZERS[key]
    host = Replay(LRS)
    runs = run_both(
        runner,
        lambda lr: ours(lr, **kwargs),
        lambda lr: theirs(lr, **_paddle_kwargs(kwargs)),
        lambda: paddle_lr.exponential_with_warmup_decay(**SCHEDULE, impl=impl),
        host,
        host_schedulers=[host],
    )
    for step, state, lr in runs:
        assert lr.view(np.uint32)[0] == LRS[step].view(np.uint32), f"step {step}: lr {lr[0]!r} != {LRS[step]!r}"
        assert_same_state(step, state, key)
    assert len(set(map(float, LRS))) > 3  # the schedule really changes the lr


def _user_switch_lr():
    """A hand-written fluid-style schedule: global var, CPU constant, Switch, assign."""
    step = paddle_lr.decay_step_counter()
    lr = paddle_lr.create_global_var([1], 0.0, "float32", persistable=True, name="user_lr")
    three = paddle_lr.fill_constant([1], "float32", 3.0, force_cpu=True)
    with paddle_lr.Switch() as switch:
        with switch.case(step < three):
            paddle.assign(0.02 + step * 0.01, lr)
        with switch.default():
            paddle.assign(paddle_lr.fill_constant([1], "float32", 0.005, force_cpu=True), lr)
    return lr


def _user_switch_values():
    s = np.arange(STEPS, dtype=np.float32)
    ramp = (s * np.float32(0.01) + np.float32(0.02)).astype(np.float32)
    return np.where(s < 3, ramp, np.float32(0.005)).astype(np.float32)


@pytest.mark.parametrize("key", ["sgd", "momentum-nesterov-fluid-l2", "rmsprop-centered-momentum", "adam", "adamw-decay-w-only"])
def test_hand_written_switch_lr_updates_as_paddle(runner, key):
    ours, theirs, kwargs = OPTIMIZERS[key]
    values = _user_switch_values()
    host = Replay(values)
    runs = run_both(runner, lambda lr: ours(lr, **kwargs), lambda lr: theirs(lr, **_paddle_kwargs(kwargs)),
                    _user_switch_lr, host, host_schedulers=[host])
    for step, state, lr in runs:
        assert lr.view(np.uint32)[0] == values[step].view(np.uint32), f"step {step}: lr {lr[0]!r} != {values[step]!r}"
        assert_same_state(step, state, key)


class Follow(paddle.optimizer.lr.LRScheduler):
    """A host-side scheduler whose value is set before each run (to what the graph computed)."""

    def __init__(self):
        super().__init__(0.0)

    def get_lr(self):
        return self.last_lr


# The clients: (schedule as fluid code built it, optimizer id)
CLIENTS = {
    "ssd-piecewise-rmsprop": (
        lambda: paddle_lr.piecewise_decay([3, 6], [0.1, 0.05, 0.01]), "rmsprop-centered-momentum"),
    "yolov3-warmup-piecewise-momentum": (
        lambda: paddle_lr.linear_lr_warmup(paddle_lr.piecewise_decay([4, 7], [0.1, 0.01, 0.001]), 3, 0.0, 0.1),
        "momentum-nesterov-fluid-l2"),
    "classification-cosine-momentum": (lambda: paddle_lr.cosine_decay(0.1, 2, 5), "momentum"),
    "bert-polynomial-adamw": (lambda: paddle_lr.polynomial_decay(0.1, 6, 0.0, 1.0), "adamw-decay-w-only"),
    "noam-adam": (lambda: paddle_lr.noam_decay(16, 3, 1.0), "adam"),
    "exponential-sgd": (lambda: paddle_lr.exponential_decay(0.1, 2, 0.5, staircase=True), "sgd-l2"),
}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_family_schedule_lr_updates_as_paddle(runner, client):
    """Paddle's optimizer is fed, on the host, the value our graph computed at that step."""
    schedule, key = CLIENTS[client]
    ours, theirs, kwargs = OPTIMIZERS[key]
    a = runner(lambda: build(lambda lr: ours(lr, **kwargs), schedule))
    host = Follow()
    b = runner(lambda: build(lambda lr: theirs(lr, **_paddle_kwargs(kwargs)), host))
    names = state_names(a.outputs["opt"])
    seen = []
    for step, (x, t) in enumerate(batches()):
        (lr,) = a.run([a.outputs["lr"]], feed={"x": x, "t": t})
        host.last_lr = float(lr.reshape(-1)[0])
        seen.append(host.last_lr)
        b.run([], feed={"x": x, "t": t})
        assert_same_state(step, {n: (a.tensor(n), b.tensor(n)) for n in names}, client)
    assert len(set(seen)) > 2, f"{client}: the lr hardly changes ({seen}); the case tests little"


@pytest.mark.parametrize("lr_kind", ["float", "scheduler"])
@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_float_and_scheduler_lr_still_paddles_own(runner, key, lr_kind):
    ours, theirs, kwargs = OPTIMIZERS[key]
    if lr_kind == "float":
        ours_lr, theirs_lr, hosts = 0.05, 0.05, []
    else:
        ours_lr, theirs_lr = Replay(LRS), Replay(LRS)
        hosts = [ours_lr, theirs_lr]
    runs = run_both(runner, lambda lr: ours(lr, **kwargs), lambda lr: theirs(lr, **_paddle_kwargs(kwargs)),
                    ours_lr, theirs_lr, host_schedulers=hosts)
    for step, state, _ in runs:
        assert_same_state(step, state, f"{key} ({lr_kind})")


@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_dygraph_with_a_scheduler_is_paddles_own(key):
    ours, theirs, kwargs = OPTIMIZERS[key]
    results = []
    for cls, kw in ((ours, kwargs), (theirs, _paddle_kwargs(kwargs))):
        paddle.disable_static()
        scheduler = Replay(LRS)
        w = paddle.create_parameter([4, 3], "float32", attr=paddle.ParamAttr(name=paddle.utils.unique_name.generate("w")),
                                    default_initializer=paddle.nn.initializer.Assign(W0))
        opt = cls(scheduler, parameters=[w], **kw)
        for x, t in batches():
            loss = paddle.mean((paddle.matmul(paddle.to_tensor(x), w) - paddle.to_tensor(t)) ** 2)
            loss.backward()
            opt.step()
            opt.clear_grad()
            scheduler.step()
        results.append(w.numpy())
    ours_w, theirs_w = results
    assert (ours_w.view(np.uint32) == theirs_w.view(np.uint32)).all(), f"{key}: {ours_w!r} != {theirs_w!r}"


@pytest.mark.skipif(not paddle.is_compiled_with_cuda(), reason="AdamW's lr_ratio runs on GPU only")
def test_adamw_lr_ratio_reads_the_tensor_lr(runner, monkeypatch):
    monkeypatch.setattr(paddle.static, "Executor", lambda place=None: paddle.base.Executor(paddle.CUDAPlace(0)))
    kwargs = dict(weight_decay=0.05, lr_ratio=lambda p: 0.25 if p.name == "b" else 1.0)
    host = Replay(LRS)
    runs = run_both(runner, lambda lr: paddle_lr.AdamW(lr, **kwargs), lambda lr: paddle.optimizer.AdamW(lr, **kwargs),
                    lambda: paddle_lr.exponential_with_warmup_decay(**SCHEDULE), host, host_schedulers=[host])
    for step, state, _ in runs:
        assert_same_state(step, state, "adamw lr_ratio")


@pytest.mark.parametrize("cls", [paddle_lr.SGD, paddle_lr.RMSProp, paddle_lr.Adam, paddle_lr.AdamW, paddle_lr.Momentum],
                         ids=lambda c: c.__name__)
def test_one_shared_mechanism(cls):
    assert issubclass(cls, paddle_lr.optimizer.TensorLearningRate)
    paddle_base = next(b for b in cls.__mro__ if b.__module__.startswith("paddle."))
    own = [name for name in ("_create_global_learning_rate", "get_lr", "set_lr", "minimize") if name in cls.__dict__]
    assert own == [], f"{cls.__name__} overrides {own} itself"
    if cls is not paddle_lr.Momentum:  # Momentum keeps fluid's keywords in place, so its own signature
        paddle_signature = inspect.signature(paddle_base.__init__)
        fluid = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in cls.fluid_keywords]
        assert inspect.signature(cls) == paddle_signature.replace(
            parameters=list(paddle_signature.parameters.values())[1:] + fluid)


# -- Momentum against numpy ---------------------------------------------------------

MU, COEFF = 0.9, 1e-2
# Paddle fuses the L2 term into the momentum kernel; float32 rounding then
# differs from numpy by an ulp or so per step.
RTOL, ATOL = 1e-5, 1e-6


def numpy_momentum(lrs, nesterov, coeff):
    """Paddle's momentum kernel, in float32: g += coeff * w; v = mu v + g; w -= lr (g + mu v | v)."""
    w, v = W0.copy(), np.zeros([4, 3], np.float32)
    out = []
    for lr, (x, t) in zip(lrs, batches()):
        g = (np.float32(2.0 / t.size) * x.T @ (x @ w - t)).astype(np.float32) + np.float32(coeff) * w
        v = np.float32(MU) * v + g
        w = w - lr * ((g + np.float32(MU) * v) if nesterov else v)
        out.append(w.copy())
    return out


def _linear(x, t, w):
    return paddle.mean((paddle.matmul(x, w) - t) ** 2)


def build_momentum(impl, nesterov, decay_keyword):
    x = paddle.static.data("x", [8, 4], "float32")
    t = paddle.static.data("t", [8, 3], "float32")
    w = paddle.static.create_parameter([4, 3], "float32", name="w",
                                       default_initializer=paddle.nn.initializer.Assign(W0))
    lr = paddle_lr.exponential_with_warmup_decay(**SCHEDULE, impl=impl)
    decay = {decay_keyword: paddle_lr.L2Decay(regularization_coeff=COEFF)}
    paddle_lr.Momentum(lr, MU, use_nesterov=nesterov, **decay).minimize(_linear(x, t, w))
    return lr, w


@pytest.mark.parametrize("decay_keyword", ["regularization", "weight_decay"])
@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
@pytest.mark.parametrize("impl", ["switch", "branchless"])
def test_momentum_on_graph_lr_matches_numpy(runner, impl, nesterov, decay_keyword):
    r = runner(lambda: build_momentum(impl, nesterov, decay_keyword))
    expected = numpy_momentum(LRS, nesterov, COEFF)
    for step, (x, t) in enumerate(batches()):
        lr, w = r.run(r.outputs, feed={"x": x, "t": t})
        assert lr[0].view(np.uint32) == LRS[step].view(np.uint32), f"step {step}: lr {lr[0]!r} != {LRS[step]!r}"
        np.testing.assert_allclose(w, expected[step], rtol=RTOL, atol=ATOL, err_msg=f"step {step}")


def test_dygraph_twin_drives_momentum():
    """In dygraph the schedule is its twin (WarmupPiecewiseDecay): Momentum steps with its values."""
    paddle.disable_static()
    scheduler = paddle_lr.exponential_with_warmup_decay(**SCHEDULE)
    assert isinstance(scheduler, paddle_lr.WarmupPiecewiseDecay)
    w = paddle.create_parameter([4, 3], "float32", default_initializer=paddle.nn.initializer.Assign(W0))
    opt = paddle_lr.Momentum(scheduler, MU, parameters=[w], regularization=paddle_lr.L2Decay(COEFF))
    expected = numpy_momentum(LRS, False, COEFF)
    for step, (x, t) in enumerate(batches()):
        assert np.float32(opt.get_lr()).view(np.uint32) == LRS[step].view(np.uint32), f"step {step}"
        _linear(paddle.to_tensor(x), paddle.to_tensor(t), w).backward()
        opt.step()
        opt.clear_grad()
        scheduler.step()
        np.testing.assert_allclose(w.numpy(), expected[step], rtol=RTOL, atol=ATOL, err_msg=f"step {step}")


# -- bad arguments --------------------------------------------------------------------

def _tensor(dtype="float32", shape=(1,)):
    return paddle.full(list(shape), 1, dtype)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: paddle_lr.SGD(_tensor("int64")), TypeError, "learning_rate: a tensor learning rate must be float32"),
        (lambda: paddle_lr.Adam(learning_rate=_tensor("float64")), TypeError, "learning_rate: a tensor learning rate must be float32"),
        (lambda: paddle_lr.AdamW(_tensor(shape=(2,))), ValueError, r"learning_rate: a tensor learning rate must hold one element, got shape \[2\]"),
        (lambda: paddle_lr.RMSProp(_tensor()).get_lr(), TypeError, "get_lr: the learning rate is an in-graph tensor"),
        (lambda: paddle_lr.Adam(_tensor()).set_lr(0.1), TypeError, "set_lr: the learning rate is an in-graph tensor"),
        (lambda: paddle_lr.Momentum(_tensor("int64"), 0.9), TypeError, "learning_rate: a tensor learning rate must be float32"),
        (lambda: paddle_lr.Momentum(_tensor(), 0.9).get_lr(), TypeError, "get_lr: the learning rate is an in-graph tensor"),
        (lambda: paddle_lr.Momentum(0.1, 0.9, regularization=paddle_lr.L2Decay(1e-4), weight_decay=1e-4),
         ValueError, "give regularization or weight_decay, not both"),
        (lambda: paddle_lr.L2Decay(1e-4, regularization_coeff=1e-4), ValueError, "give coeff or regularization_coeff, not both"),
        (lambda: paddle_lr.Momentum(0.1, 1.0), ValueError, "momentum: must be < 1, got 1.0"),
        (lambda: paddle_lr.L2Decay(regularization_coeff=-1.0), ValueError, "coeff: must be >= 0, got -1.0"),
    ],
    ids=["int64", "float64-keyword", "two-elements", "get_lr", "set_lr", "momentum-int64", "momentum-get_lr",
         "both-decays", "both-coeffs", "momentum-one", "negative-coeff"],
)
def test_bad_optimizer_arguments(static_mode, call, error, message):
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        with pytest.raises(error, match=message) as info:
            call()
    assert "\n" not in str(info.value)

