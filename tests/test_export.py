"""Programs stay clean: eval clones and exported models carry no schedule or counter."""
import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.graph import ir as ir
from paddle_lr.graph.counter import LR_DECAY_COUNTER

ARGS = dict(learning_rate=0.1, boundaries=[3, 5], values=[0.1, 0.05, 0.025],
            warmup_iter=2, warmup_factor=0.25)
SCHEDULE_OPS = {"increment", "conditional_block", "searchsorted", "where",
                "pd_op.increment_", "pd_op.if", "pd_op.searchsorted", "pd_op.where"}
X = np.linspace(-1, 1, 32, dtype=np.float32).reshape(8, 4)


def build_model(with_schedule, impl="switch", minimize=True):
    x = paddle.static.data("x", [8, 4], "float32")
    y = paddle.static.nn.fc(x, 3, weight_attr=paddle.ParamAttr(
        name="fc_w", initializer=paddle.nn.initializer.Constant(0.1)))
    loss = paddle.mean(y * y)
    lr = paddle_lr.exponential_with_warmup_decay(**ARGS, impl=impl) if with_schedule else 0.1
    if minimize:
        paddle_lr.Momentum(lr, 0.9).minimize(loss)
    return x, y, loss, lr


@pytest.mark.parametrize("minimize", [True, False], ids=["after_minimize", "before_minimize"])
@pytest.mark.parametrize("impl", ["switch", "branchless"])
def test_clone_for_test_drops_schedule_and_counter(runner, impl, minimize):
    r = runner(lambda: build_model(True, impl, minimize))
    x, y, loss, lr = r.outputs
    test, (test_y,) = ir.clone_for_test(r.main, [y])
    names = ir.op_names(test)
    assert not SCHEDULE_OPS & set(names), names
    assert not any(ir.is_schedule_op(op) for op in test.global_block().ops)
    for step in range(3):
        r.run([lr], feed={"x": X})
        before = int(r.tensor(LR_DECAY_COUNTER)[0])
        (evaluated,) = r.run([test_y], feed={"x": X}, program=test)
        assert int(r.tensor(LR_DECAY_COUNTER)[0]) == before == step, "eval must not advance the counter"
        assert evaluated.shape == (8, 3)


@pytest.mark.parametrize("impl", ["switch", "branchless"])
def test_train_and_eval_in_one_process(runner, impl):
    """Interleaved eval runs change neither the lr sequence nor the parameters' path."""
    plain = runner(lambda: build_model(True, impl))
    mixed = runner(lambda: build_model(True, impl))
    test, test_fetch = ir.clone_for_test(mixed.main, [mixed.outputs[1]])
    for step in range(7):
        (lr_a,) = plain.run([plain.outputs[3]], feed={"x": X})
        (lr_b,) = mixed.run([mixed.outputs[3]], feed={"x": X})
        mixed.run(test_fetch, feed={"x": X}, program=test)
        assert lr_a[0] == lr_b[0] == paddle_lr.lr_at(step, **ARGS), f"step {step}"
        np.testing.assert_array_equal(plain.tensor("fc_w"), mixed.tensor("fc_w"), err_msg=f"step {step}")


@pytest.mark.skipif(ir.is_pir(), reason="PIR programs have no clone(for_test=True)")
def test_legacy_clone_for_test_after_minimize_is_clean(runner):
    r = runner(lambda: build_model(True))
    names = ir.op_names(r.main.clone(for_test=True))
    assert names == ["mul", "elementwise_add", "elementwise_mul", "reduce_mean"], names


@pytest.mark.parametrize("impl", ["switch", "branchless"])
def test_inference_model_has_no_schedule(runner, tmp_path, impl):
    r = runner(lambda: build_model(True, impl))
    reference = runner(lambda: build_model(False))
    x, y, _, _ = r.outputs
    for _ in range(2):
        r.run([y], feed={"x": X})
    with paddle.static.scope_guard(r.scope):
        paddle.static.save_inference_model(str(tmp_path / "model"), [x], [y], r.exe, program=r.main)
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        program, feeds, fetches = paddle.static.load_inference_model(str(tmp_path / "model"), r.exe)
        (out,) = r.exe.run(program, feed={feeds[0]: X}, fetch_list=fetches)
    names = ir.op_names(program)
    assert not SCHEDULE_OPS & set(names), names
    assert scope.find_var(LR_DECAY_COUNTER) is None, "the counter must not be exported"
    test, test_fetch = ir.clone_for_test(r.main, [y])
    (expected,) = r.run(test_fetch, feed={"x": X}, program=test)
    np.testing.assert_array_equal(out, expected)
    ref_x, ref_y, _, _ = reference.outputs
    with paddle.static.scope_guard(reference.scope):
        paddle.static.save_inference_model(str(tmp_path / "ref"), [ref_x], [ref_y], reference.exe,
                                           program=reference.main)
        ref_program, _, _ = paddle.static.load_inference_model(str(tmp_path / "ref"), reference.exe)
    assert names == ir.op_names(ref_program), "export differs from the same model without a schedule"
