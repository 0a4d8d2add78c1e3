"""Paddle's private APIs that paddle_lr reaches, each through paddle_lr/graph/ir.py, on this Paddle version."""
import paddle

import paddle_lr


def test_the_optimizers_lr_goes_through_paddles_private_map(static_mode):
    """ir.set_program_lr, the one place that writes Paddle's _learning_rate_map."""
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        x = paddle.static.data("x", [None, 2], "float32")
        loss = paddle.mean(paddle.static.nn.fc(x, 1))
        lr = paddle_lr.piecewise_decay([2], [0.1, 0.01])
        optimizer = paddle_lr.SGD(learning_rate=lr)
        optimizer.minimize(loss)
    assert optimizer._learning_rate_map[main] is lr
