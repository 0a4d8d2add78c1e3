"""``import paddle_lr`` loads no demo package that ``import paddle`` does not load itself.

Run by ``.ci/run`` in a venv holding only ``pip install -e .`` and Paddle (so the
demo's packages are not even installed), and by tests/test_install.py in a full
one. Paddle itself imports Pillow (its dependency) and tqdm when present: what
counts is what paddle_lr adds. Prints the packages; exits 1 on a stray one.
"""
import subprocess
import sys

DEMO_PACKAGES = ("PIL", "matplotlib", "rich", "tqdm", "pycocotools", "libcst")
_PROBE = "import sys, {}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({!r}))))"


def loaded_by(module):
    """The demo packages ``import module`` loads, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _PROBE.format(module, DEMO_PACKAGES)],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def main():
    by_paddle, by_us = loaded_by("paddle"), loaded_by("paddle_lr")
    stray = sorted(by_us - by_paddle)
    print(f"import paddle loads {sorted(by_paddle)}; import paddle_lr adds {stray}")
    return 1 if stray else 0


if __name__ == "__main__":
    sys.exit(main())
