"""paddle_lr.Momentum on the in-graph lr against a numpy momentum-with-L2 reference."""
import numpy as np
import paddle
import pytest

import paddle_lr

ARGS = dict(learning_rate=0.1, boundaries=[3, 5], values=[0.1, 0.05, 0.025],
            warmup_iter=2, warmup_factor=0.25)
STEPS = 8
MU, COEFF = 0.9, 1e-2
# Paddle fuses the L2 term into the momentum kernel; float32 rounding then
# differs from numpy by an ulp or so per step.
RTOL, ATOL = 1e-5, 1e-6


def batches(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal([8, 4]).astype(np.float32),
             rng.standard_normal([8, 3]).astype(np.float32)) for _ in range(STEPS)]


def numpy_momentum(lrs, nesterov, coeff):
    """Paddle's momentum kernel, in float32: g += coeff * w; v = mu v + g; w -= lr (g + mu v | v)."""
    w, v = np.full([4, 3], 0.5, np.float32), np.zeros([4, 3], np.float32)
    out = []
    for lr, (x, t) in zip(lrs, batches()):
        g = (np.float32(2.0 / t.size) * x.T @ (x @ w - t)).astype(np.float32) + np.float32(coeff) * w
        v = np.float32(MU) * v + g
        w = w - lr * ((g + np.float32(MU) * v) if nesterov else v)
        out.append(w.copy())
    return out


def build(lr_kind, nesterov, decay_keyword):
    x = paddle.static.data("x", [8, 4], "float32")
    t = paddle.static.data("t", [8, 3], "float32")
    w = paddle.static.create_parameter([4, 3], "float32", name="w",
                                       default_initializer=paddle.nn.initializer.Constant(0.5))
    loss = paddle.mean((paddle.matmul(x, w) - t) ** 2)
    lr = paddle_lr.exponential_with_warmup_decay(**ARGS, impl=lr_kind)
    decay = {decay_keyword: paddle_lr.L2Decay(regularization_coeff=COEFF)}
    paddle_lr.Momentum(lr, MU, use_nesterov=nesterov, **decay).minimize(loss)
    return lr, w


@pytest.mark.parametrize("decay_keyword", ["regularization", "weight_decay"])
@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
@pytest.mark.parametrize("lr_kind", ["switch", "branchless"])
def test_momentum_on_graph_lr_matches_numpy(runner, lr_kind, nesterov, decay_keyword):
    r = runner(lambda: build(lr_kind, nesterov, decay_keyword))
    lrs = [paddle_lr.lr_at(s, **ARGS) for s in range(STEPS)]
    expected = numpy_momentum(lrs, nesterov, COEFF)
    for step, (x, t) in enumerate(batches()):
        lr, w = r.run(r.outputs, feed={"x": x, "t": t})
        assert lr[0].view(np.uint32) == lrs[step].view(np.uint32), f"step {step}: lr {lr[0]!r} != {lrs[step]!r}"
        np.testing.assert_allclose(w, expected[step], rtol=RTOL, atol=ATOL, err_msg=f"step {step}")


@pytest.mark.parametrize("lr", [0.05, "scheduler"])
def test_float_and_lrscheduler_still_work(runner, lr):
    def build_float():
        x = paddle.static.data("x", [8, 4], "float32")
        t = paddle.static.data("t", [8, 3], "float32")
        w = paddle.static.create_parameter([4, 3], "float32", name="w",
                                           default_initializer=paddle.nn.initializer.Constant(0.5))
        loss = paddle.mean((paddle.matmul(x, w) - t) ** 2)
        rate = paddle.optimizer.lr.PiecewiseDecay([100], [0.05, 0.01]) if lr == "scheduler" else lr
        paddle_lr.Momentum(rate, MU, weight_decay=paddle_lr.L2Decay(COEFF)).minimize(loss)
        return [w]

    r = runner(build_float)
    expected = numpy_momentum([np.float32(0.05)] * STEPS, False, COEFF)
    for step, (x, t) in enumerate(batches()):
        (w,) = r.run(r.outputs, feed={"x": x, "t": t})
        np.testing.assert_allclose(w, expected[step], rtol=RTOL, atol=ATOL, err_msg=f"step {step}")


def test_dygraph_twin_drives_momentum():
    paddle.disable_static()
    scheduler = paddle_lr.WarmupPiecewiseDecay(**ARGS)
    w = paddle.create_parameter([4, 3], "float32", default_initializer=paddle.nn.initializer.Constant(0.5))
    opt = paddle_lr.Momentum(scheduler, MU, parameters=[w], regularization=paddle_lr.L2Decay(COEFF))
    lrs = [paddle_lr.lr_at(s, **ARGS) for s in range(STEPS)]
    expected = numpy_momentum(lrs, False, COEFF)
    for step, (x, t) in enumerate(batches()):
        assert np.float32(opt.get_lr()).view(np.uint32) == lrs[step].view(np.uint32), f"step {step}"
        loss = paddle.mean((paddle.matmul(paddle.to_tensor(x), w) - paddle.to_tensor(t)) ** 2)
        loss.backward()
        opt.step()
        opt.clear_grad()
        scheduler.step()
        np.testing.assert_allclose(w.numpy(), expected[step], rtol=RTOL, atol=ATOL, err_msg=f"step {step}")


def _both_decays():
    paddle_lr.Momentum(0.1, 0.9, regularization=paddle_lr.L2Decay(1e-4), weight_decay=1e-4)


def _both_coeffs():
    paddle_lr.L2Decay(1e-4, regularization_coeff=1e-4)


def _momentum_one():
    paddle_lr.Momentum(0.1, 1.0)


def _negative_coeff():
    paddle_lr.L2Decay(regularization_coeff=-1.0)


def _int_lr_tensor():
    paddle_lr.Momentum(paddle.full([1], 1, "int64"), 0.9)


def _get_lr_of_tensor():
    paddle_lr.Momentum(paddle.full([1], 0.1, "float32"), 0.9).get_lr()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (_both_decays, ValueError, "give regularization or weight_decay, not both"),
        (_both_coeffs, ValueError, "give coeff or regularization_coeff, not both"),
        (_momentum_one, ValueError, "momentum: must be < 1, got 1.0"),
        (_negative_coeff, ValueError, "coeff: must be >= 0, got -1.0"),
        (_int_lr_tensor, TypeError, "learning_rate: a tensor learning rate must be float32"),
        (_get_lr_of_tensor, TypeError, "get_lr: the learning rate is an in-graph tensor"),
    ],
)
def test_bad_optimizer_arguments(static_mode, call, error, message):
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        with pytest.raises(error, match=message):
            call()
