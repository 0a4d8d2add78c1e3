"""A small training program against fluid 1.8.5's own run (tests/data/fluid185/training/, record_training.py).

The same program is built with paddle_lr: two fc layers, mean squared error,
the seed's ``exponential_with_warmup_decay`` (switch and branch-free) and the
optimizer, started from fluid's initial parameters and fed fluid's batches.
Measured on 3.3.1 and 2.6.2 over 30 iterations, and held here:

* the lr, every iteration: bit for bit;
* Momentum(0.9, L2Decay(1e-4)) and RMSProp(L2Decay(1e-4)): the loss, every
  gradient (with the L2 term fluid adds into it: Paddle 3.x adds it inside
  both optimizers' kernels, 2.6.2 inside Momentum's only) and every parameter,
  every iteration, bit for bit;
* Adam: the gradients of the first iteration and the loss before it are bit
  for bit; the parameters differ from the first update on, because fluid
  1.8.5's adam kernel adds ``epsilon`` to ``sqrt(moment2)`` where Paddle 2.x
  and 3.x add ``epsilon * sqrt(1 - beta2 ** t)``. The test shows that this
  is the whole difference (each kernel's formula in float32 numpy, given the
  recorded gradients, lands within ``FORMULA_ULP`` of its own run's first
  update, and Paddle's formula does not land on fluid's) and pins the measured size (docs/training.md).
"""
import numpy as np
import paddle
import pytest

import paddle_lr
from fluid185kit import decode_bits, load

IMPLS = ["switch", "branchless"]
L2 = 1e-4
FORMULA_ULP = 2  # numpy's float32 roundings against one compiled kernel (see off_by)
ADAM_MEASURED = {"param_abs": 1.3e-5, "loss_abs": 1.0e-6}  # docs/training.md, both versions

# Whether Paddle adds weight_decay=L2Decay inside the optimizer's kernel (its gradient variable
# stays raw) rather than with ops into the gradient, as fluid did.
L2_FUSED = {"momentum": True, "rmsprop": not paddle.__version__.startswith("2.")}

OPTIMIZERS = {
    "momentum": lambda lr: paddle_lr.Momentum(lr, momentum=0.9, regularization=paddle_lr.L2Decay(L2)),
    "adam": lambda lr: paddle_lr.Adam(lr),
    "rmsprop": lambda lr: paddle_lr.RMSProp(lr, regularization=paddle_lr.L2Decay(L2)),
}


def f32(encoded, shape):
    return decode_bits(encoded).view(np.float32).reshape(shape)


def recording(name):
    rec = load("training", name + ".json")
    d = rec["data"]
    n = d["iterations"]
    rec["x"] = f32(d["x"], [n, d["batch"], d["features"]])
    rec["y"] = f32(d["y"], [n, d["batch"], 1])
    for v in rec["params"].values():
        v["initial"] = f32(v["initial"], v["shape"])
        v["after"] = f32(v["after_each_iteration"], [n, *v["shape"]])
        v["grad"] = f32(v["grad_each_iteration"], [n, *v["shape"]])
    return rec


def build(rec, name, impl):
    def program():
        d = rec["data"]
        x = paddle.static.data("x", [d["batch"], d["features"]], "float32")
        y = paddle.static.data("y", [d["batch"], 1], "float32")
        hidden = paddle.static.nn.fc(x, rec["program"]["hidden"], activation="relu",
                                     weight_attr=paddle.ParamAttr(name="fc0.w"),
                                     bias_attr=paddle.ParamAttr(name="fc0.b"))
        out = paddle.static.nn.fc(hidden, 1, weight_attr=paddle.ParamAttr(name="fc1.w"),
                                  bias_attr=paddle.ParamAttr(name="fc1.b"))
        loss = paddle.mean(paddle.nn.functional.square_error_cost(out, y))
        args = {k: v for k, v in rec["schedule"].items() if k != "fn"}
        lr = paddle_lr.exponential_with_warmup_decay(**args, impl=impl)
        _, params_grads = OPTIMIZERS[name](lr).minimize(loss)
        return lr, loss, {p.name: g for p, g in params_grads}
    return program


def train(runner, rec, name, impl):
    """paddle_lr's run from fluid's initial parameters: lr, loss [n]; params, grads {name: [n, ...]}."""
    r = runner(build(rec, name, impl))
    lr, loss, grads = r.outputs
    assert sorted(grads) == sorted(rec["params"])
    for p, v in rec["params"].items():
        r.set_tensor(p, v["initial"])
    names = sorted(grads)
    lrs, losses, after, grad = [], [], {p: [] for p in names}, {p: [] for p in names}
    for i in range(rec["data"]["iterations"]):
        got = r.run([lr, loss, *(grads[p] for p in names)], feed={"x": rec["x"][i], "y": rec["y"][i]})
        lrs.append(got[0].reshape(-1)[0])
        losses.append(got[1].reshape(-1)[0])
        for p, g in zip(names, got[2:]):
            grad[p].append(g)
            after[p].append(r.tensor(p))
    return (np.asarray(lrs, dtype=np.float32), np.asarray(losses, dtype=np.float32),
            {p: np.stack(v) for p, v in after.items()}, {p: np.stack(v) for p, v in grad.items()})


def first_difference(what, got, want):
    """A message naming the first iteration (and element) where ``got`` and ``want`` differ, or None."""
    got, want = np.asarray(got, dtype=np.float32), np.asarray(want, dtype=np.float32)
    bad = np.argwhere(got.view(np.uint32) != want.view(np.uint32))
    if bad.size == 0:
        return None
    at = tuple(bad[0])
    return (f"{what}: {len(bad)} values differ; first at iteration {at[0]}, element {at[1:]}: "
            f"paddle_lr {got[at]!r}, fluid 1.8.5 {want[at]!r}")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_lr_every_iteration(runner, name, impl):
    rec = recording(name)
    lrs = train(runner, rec, name, impl)[0]
    error = first_difference("lr", lrs[:, None], decode_bits(rec["lr"]).view(np.float32)[:, None])
    assert error is None, error


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ["momentum", "rmsprop"])
def test_bit_for_bit(runner, name, impl):
    rec = recording(name)
    _, losses, after, grads = train(runner, rec, name, impl)
    want_loss = decode_bits(rec["loss"]).view(np.float32)
    errors = [first_difference("loss", losses[:, None], want_loss[:, None])]
    for p, v in rec["params"].items():
        # fluid's <name>@GRAD holds the gradient with the L2 term added (a scale and a sum op);
        # where Paddle fuses the term into the optimizer's kernel, its gradient is the raw one.
        before = np.concatenate([v["initial"][None], v["after"][:-1]])
        regularized = grads[p] + np.float32(L2) * before if L2_FUSED[name] else grads[p]
        errors.append(first_difference(f"{p}@GRAD with the L2 term", regularized, v["grad"]))
        errors.append(first_difference(p, after[p], v["after"]))
    errors = [e for e in errors if e]
    assert not errors, "\n".join(errors)


def adam_step(param, grad, moment1, moment2, lr, t, scaled_epsilon):
    """One Adam update in float32 numpy: fluid 1.8.5's formula, or (scaled_epsilon) Paddle 2.x/3.x's."""
    f = np.float32
    beta1, beta2, epsilon = f(0.9), f(0.999), f(1e-8)
    beta1_pow, beta2_pow = beta1 ** f(t), beta2 ** f(t)
    lr_t = f(lr) * (np.sqrt(f(1) - beta2_pow) / (f(1) - beta1_pow))
    moment1 = beta1 * moment1 + (f(1) - beta1) * grad
    moment2 = beta2 * moment2 + (f(1) - beta2) * grad * grad
    eps = epsilon * np.sqrt(f(1) - beta2_pow) if scaled_epsilon else epsilon
    return param - lr_t * (moment1 / (np.sqrt(moment2) + eps)), moment1, moment2


def off_by(formula, run, before, lr):
    """How far a formula's update is from a run's, at worst, in float32 ulps of the largest of the
    parameter before, after and the lr (the step can cancel most of the parameter)."""
    scale = np.maximum(np.maximum(np.abs(before), np.abs(run)), np.float32(lr)).astype(np.float32)
    return float((np.abs(formula.astype(np.float64) - run) / np.spacing(scale)).max())


@pytest.mark.parametrize("impl", IMPLS)
def test_adam_differs_by_epsilon_placement(runner, impl):
    rec = recording("adam")
    _, losses, after, grads = train(runner, rec, "adam", impl)
    want_loss = decode_bits(rec["loss"]).view(np.float32)
    lr0 = decode_bits(rec["lr"]).view(np.float32)[0]
    assert losses[0] == want_loss[0], (losses[0], want_loss[0])
    worst = {"param_abs": 0.0, "loss_abs": float(np.abs(losses.astype(np.float64) - want_loss).max())}
    for p, v in rec["params"].items():
        assert first_difference(f"{p}@GRAD iteration 0", grads[p][:1], v["grad"][:1]) is None
        zero = np.zeros(v["shape"], dtype=np.float32)
        fluid_formula = adam_step(v["initial"], v["grad"][0], zero, zero, lr0, 1, scaled_epsilon=False)[0]
        paddle_formula = adam_step(v["initial"], grads[p][0], zero, zero, lr0, 1, scaled_epsilon=True)[0]
        distances = [off_by(fluid_formula, v["after"][0], v["initial"], lr0),
                     off_by(paddle_formula, after[p][0], v["initial"], lr0),
                     off_by(paddle_formula, v["after"][0], v["initial"], lr0)]
        assert distances[0] <= FORMULA_ULP and distances[1] <= FORMULA_ULP < distances[2], (p, distances)
        worst["param_abs"] = max(worst["param_abs"], float(np.abs(after[p].astype(np.float64) - v["after"]).max()))
    assert 0 < worst["param_abs"] <= ADAM_MEASURED["param_abs"], worst
    assert 0 < worst["loss_abs"] <= ADAM_MEASURED["loss_abs"], worst
