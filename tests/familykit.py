"""Helpers shared by the family tests: float32 ulps, building nested specs, the running Paddle's kernels."""
from collections.abc import Mapping

import numpy as np
import paddle

import paddle_lr
from paddle_lr.schedules.kernels import C_KERNELS
from paddle_lr.schedules.registry import INNER, REGISTRY, check_spec

# 3.x rounds exp/cos/pow differently from 2.6.2 (the golden's version); 2.x must be exact.
KERNEL_ULP = 0 if paddle.__version__.startswith("2.") else 1
# ... per kernel: 3.3.1's one-element cos is 2 ulp from the C library's on some inputs (measured:
# 22 of 60000 uniform in [0, 2*pi], the first at 0.1267; cosine_decay_with_skip's steps reach them).
KERNEL_BOUND = {"exp": KERNEL_ULP, "pow": KERNEL_ULP, "cos": 2 * KERNEL_ULP}


def names_of(spec):
    """The schedules of a (nested) spec, by name."""
    inner = spec["args"].get("learning_rate")
    return {spec["fn"]} | (names_of(inner) if isinstance(inner, Mapping) else set())


def kernels_of(spec):
    """The exp/cos/pow kernels called anywhere in a (nested) spec."""
    inner = spec["args"].get("learning_rate")
    below = kernels_of(inner) if isinstance(inner, Mapping) else set()
    return below | set(REGISTRY[spec["fn"]].kernels)


def ulps(got, expected_bits):
    """Distance in float32 ulps (values of one sign, as here); two NaNs are 0 apart, whatever their sign bits
    (``pow`` of a negative base: ``polynomial_decay`` past a fractional ``decay_steps`` whose quotient rounds above 1)."""
    got = np.asarray(got, dtype=np.float32)
    expected = np.asarray(expected_bits, dtype=np.uint32).view(np.float32)
    distance = np.abs(got.view(np.int32).astype(np.int64) - expected.view(np.int32).astype(np.int64))
    return np.where(np.isnan(got) & np.isnan(expected), 0, distance)


def mismatch(what, steps, got, expected_bits, tolerance=0):
    """A message naming the first step beyond ``tolerance`` ulps, or None."""
    distance = ulps(got, expected_bits)
    bad = np.flatnonzero(distance > tolerance)
    if bad.size == 0:
        return None
    i = bad[0]
    want = np.asarray(expected_bits, dtype=np.uint32)[i:i + 1].view(np.float32)[0]
    return (f"{what}: {bad.size} of {len(steps)} steps off by more than {tolerance} ulp; first at step "
            f"{int(steps[i])}: got {np.float32(got[i])!r}, expected {want!r} ({int(distance[i])} ulp)")


def build_nodes(spec):
    """Build a nested spec inner first; return [(checked spec, tensor), ...], the outermost last."""
    args = dict(spec["args"])
    nodes = []
    if isinstance(args.get("learning_rate"), Mapping):
        nodes = build_nodes(args["learning_rate"])
        args["learning_rate"] = nodes[-1][1]
    nodes.append((check_spec(spec), REGISTRY[spec["fn"]].build(**args)))
    return nodes


def run_graph(runner, spec, steps):
    """Every node's value at each of ``steps``: an array [nodes, steps], and the checked specs."""
    r = runner(lambda: build_nodes(spec))
    specs = [node_spec for node_spec, _ in r.outputs]
    values, previous = [], None
    for step in steps:
        if previous is None or step != previous + 1:
            r.jump_to(int(step))
        values.append([v[0] for v in r.run([t for _, t in r.outputs])])
        previous = step
    return specs, np.asarray(values, dtype=np.float32).T


def running_kernels(distances):
    """Paddle's eager float32 kernels, one [1] tensor at a time (as the graph calls them),
    recording in ``distances`` how far each is from the C library's (2.6.2's) on its inputs."""
    ops = {"exp": paddle.exp, "cos": paddle.cos, "pow": paddle.pow}

    def kernel(name):
        def apply(*xs):
            xs = [np.asarray(x, dtype=np.float32).reshape(-1) for x in xs]
            paddle.disable_static()
            try:
                out = np.array([ops[name](*(paddle.to_tensor(x[i:i + 1]) for x in xs)).numpy()[0]
                                for i in range(xs[0].size)], dtype=np.float32)
            finally:
                paddle.enable_static()
            c = C_KERNELS[name](*xs)
            distances[name] = max(distances.get(name, 0), int(ulps(out, c.view(np.uint32)).max(initial=0)))
            return out
        return apply

    return {name: kernel(name) for name in ops}


def eager_values(node_spec, steps, inner_values):
    """The node's op sequence run eagerly on the running Paddle, one [1] step tensor at a time."""
    schedule = REGISTRY[node_spec["fn"]]
    args = {k: v for k, v in node_spec["args"].items() if k not in schedule.options}
    paddle.disable_static()
    try:
        out = []
        for i, step in enumerate(steps):
            if inner_values is not None:
                args["learning_rate"] = paddle.to_tensor(inner_values[i:i + 1])
            value = schedule.ops(paddle.to_tensor(np.array([step], dtype=np.float32)), **args)
            out.append(value.numpy().reshape(-1)[0])
    finally:
        paddle.enable_static()
    return np.asarray(out, dtype=np.float32)


def check_nodes(label, specs, values, steps, kernel_ulp=None):
    """Each schedule of a built spec on its own, given the graph's value of its ``learning_rate``.

    Without exp/cos/pow: its reference, bit for bit. With them: its own op
    sequence run eagerly, bit for bit; its reference evaluated with the
    running Paddle's kernels, bit for bit; and those kernels within
    ``kernel_ulp`` (by default ``KERNEL_BOUND``, per kernel) of the C library's (2.6.2's) on every input.

    Returns:
        list[str]: the failures (empty when all hold).
    """
    errors = []
    for i, node_spec in enumerate(specs):
        schedule = REGISTRY[node_spec["fn"]]
        inner = values[i - 1] if isinstance(node_spec["args"].get("learning_rate"), Mapping) else None
        args = {k: v for k, v in node_spec["args"].items() if k not in schedule.options}
        if inner is not None:
            args["learning_rate"] = inner
        what = f"{label} node {node_spec['fn']}"
        if not schedule.kernels:
            reference = np.asarray(schedule.reference(steps, **args), dtype=np.float32).view(np.uint32)
            errors.append(mismatch(f"{what}: graph vs reference", steps, values[i], reference))
            continue
        eager = eager_values(node_spec, steps, inner)
        errors.append(mismatch(f"{what}: graph vs the same ops run eagerly", steps, values[i], eager.view(np.uint32)))
        distances = {}
        on_running = np.asarray(schedule.reference(steps, **args, kernels=running_kernels(distances)),
                                dtype=np.float32).view(np.uint32)
        errors.append(mismatch(f"{what}: graph vs reference with the running Paddle's kernels",
                               steps, values[i], on_running))
        errors += [f"{what}: the running Paddle's {name} is {d} ulp from the C library's (2.6.2's)"
                   for name, d in distances.items() if d > (KERNEL_BOUND[name] if kernel_ulp is None else kernel_ulp)]
    return [e for e in errors if e]


def examples(field="example"):
    """One spec per registered schedule, from its record (``example``: small; ``typical``: a recipe's)."""
    return {name: {"fn": name, "args": dict(getattr(s, field))} for name, s in REGISTRY.items()}


# The example spec of every registered schedule (tests that iterate REGISTRY use these).
EXAMPLES = examples()


def composes(name):
    """Whether ``name``'s ``learning_rate`` may be another schedule's value (its check says)."""
    schedule = REGISTRY[name]
    if "learning_rate" not in schedule.kinds:
        return False
    try:
        schedule.check(**{**schedule.example, "learning_rate": INNER})
    except paddle_lr.ConfigError:
        return False
    return True


def with_impl(spec, impl):
    """``spec`` with ``impl`` given to every schedule in it that has lowerings."""
    args = dict(spec["args"])
    if isinstance(args.get("learning_rate"), Mapping):
        args["learning_rate"] = with_impl(args["learning_rate"], impl)
    if REGISTRY[spec["fn"]].impls:
        args["impl"] = impl
    return {"fn": spec["fn"], "args": args}


def twin_of(spec):
    """Build a spec as a user composes twins in dygraph: inner twin first, passed as learning_rate."""
    args = dict(spec["args"])
    inner = args.get("learning_rate")
    if isinstance(inner, Mapping):
        args["learning_rate"] = twin_of(inner)
    return REGISTRY[spec["fn"]].build(**args)
