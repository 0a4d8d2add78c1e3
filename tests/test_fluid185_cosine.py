"""The cosine recipes people train with, over their whole runs, against fluid 1.8.5 (tests/data/fluid185/cosine/).

tools/fluid18/record_cosine.py recorded, on fluid 1.8.5, every step of
ImageNet ResNet's ``cosine_decay(0.1, 5005, 120)``, PaddleCV image
classification's published ``cosine_decay_with_warmup(0.1, 5005, 120)`` (a
Switch body, ported here by paddle-lr-port as test_port_published.py does) and PaddleDetection's static
``CosineDecay`` under ``LinearWarmup`` (ssdlite_mobilenet_v3_large's numbers).

* 2.x: bit for bit, every step (the schedules' numpy references, every step;
  the graphs on a sample; ``-m slow``: the graphs every step).
* 3.x: 3.x's float32 ``cos`` rounds differently from fluid's (the C library's
  ``cosf``) on some inputs. For the family's schedules the difference is shown
  to be the kernel's (familykit.check_nodes on the sample, as
  test_family_golden.py does). The contract is absolute:
  ``|lr - fluid's| <= CONTRACT_ULPS`` ulps of the recipe's base lr, at every
  step; docs/family.md's table gives the measured maxima, also relative.
"""
import numpy as np
import paddle
import pytest

import publishedkit
from familykit import KERNEL_ULP, check_nodes, kernels_of, mismatch, run_graph
from fluid185kit import decode_bits, load
from paddle_lr.schedules.registry import reference_values

CONTRACT_ULPS = 2  # of the base lr, absolute, on 3.x (2.x: 0, bit for bit)
# 3.3.1's float32 cos is up to 2 ulp from the C library's cosf on inputs near pi (the end of
# ppdet's 400000-step wave: cos(3.0311577) is -0.99390817 against cosf's -0.9939083).
RECIPE_KERNEL_ULP = 2 if KERNEL_ULP else 0
RECIPES = {case["name"]: case for case in load("cosine", "recipes.json")["cases"]}
FAMILY = [name for name, case in RECIPES.items() if "schedule" in case]
BODIES = [name for name, case in RECIPES.items() if "schedule" not in case]


def expected(case):
    return decode_bits(case["lr"])


def sample(case):
    """The steps the default run checks: the first 50, the last 1000, 50 around every 20000th, 200 at random."""
    n = case["steps"]
    picked = set(range(50)) | set(range(n - 1000, n))
    for centre in range(0, n, 20000):
        picked |= set(range(max(0, centre - 25), min(n, centre + 25)))
    picked |= set(np.random.default_rng(n).integers(0, n, 200).tolist())
    return np.array(sorted(picked))


def within_contract(what, case, steps, got):
    """None, or a message naming the first step past the contract (2.x: any difference)."""
    want = expected(case)[steps]
    if KERNEL_ULP == 0:
        return mismatch(what, steps, got, want)
    spacing = float(np.spacing(np.float32(case["base_lr"])))
    off = np.abs(np.asarray(got, np.float64) - want.view(np.float32)) / spacing
    bad = np.flatnonzero(off > CONTRACT_ULPS)
    if bad.size == 0:
        return None
    i = bad[0]
    return (f"{what}: {bad.size} of {len(steps)} steps beyond {CONTRACT_ULPS} ulp of the base lr; first at step "
            f"{steps[i]}: got {np.float32(got[i])!r}, fluid 1.8.5 {want.view(np.float32)[i]!r} ({off[i]:.1f} ulp)")


@pytest.mark.parametrize("name", FAMILY)
def test_reference_is_fluid_every_step(name):
    case = RECIPES[name]
    steps = np.arange(case["steps"])
    error = mismatch(f"{name} reference", steps, reference_values(case["schedule"], steps), expected(case))
    assert error is None, error


def check_family_graph(runner, name, steps):
    case = RECIPES[name]
    specs, values = run_graph(runner, case["schedule"], steps)
    errors = [within_contract(f"{name} graph", case, steps, values[-1])]
    errors += check_nodes(name, specs, values, steps, kernel_ulp=RECIPE_KERNEL_ULP)
    errors = [e for e in errors if e]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", FAMILY)
def test_family_graph(runner, name):
    assert kernels_of(RECIPES[name]["schedule"]) == {"cos"}
    check_family_graph(runner, name, sample(RECIPES[name]))


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILY)
def test_family_graph_every_step(runner, name):
    check_family_graph(runner, name, np.arange(RECIPES[name]["steps"]))


@pytest.fixture(scope="module")
def tmp_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ported")


def body_graph(runner, tmp_dir, case, steps):
    """The published file ported by paddle-lr-port, the call run at ``steps`` (the counter jumped in between)."""
    module = publishedkit.ported(case["body"], tmp_dir)[1]
    paddle.enable_static()  # ported() leaves dygraph on; the runner fixture had static on
    r = runner(lambda: eval(case["call"], vars(module)))
    got, previous = [], None
    for step in steps:
        if previous is None or step != previous + 1:
            r.jump_to(int(step))
        got.append(r.run([r.outputs])[0].reshape(-1)[0])
        previous = step
    return np.asarray(got, dtype=np.float32)


@pytest.mark.parametrize("name", BODIES)
def test_body_graph(runner, tmp_dir, name):
    case = RECIPES[name]
    assert case["file"] == publishedkit.BODIES[case["body"]][0]
    steps = sample(case)
    error = within_contract(f"{name} ported", case, steps, body_graph(runner, tmp_dir, case, steps))
    assert error is None, error


@pytest.mark.slow
@pytest.mark.parametrize("name", BODIES)
def test_body_graph_every_step(runner, tmp_dir, name):
    case = RECIPES[name]
    steps = np.arange(case["steps"])
    error = within_contract(f"{name} ported", case, steps, body_graph(runner, tmp_dir, case, steps))
    assert error is None, error


def test_recorded_on_fluid_185():
    assert load("cosine", "recipes.json")["paddle"] == "1.8.5"
    assert sorted(RECIPES) == ["imagenet_warmup_cosine", "ppdet_ssdlite_cosine", "resnet_cosine"]
