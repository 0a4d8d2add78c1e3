"""The library installs as a library: ``import paddle_lr`` needs none of the demo's packages."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECK = ROOT / ".ci" / "check_import.py"

# After paddle is loaded, a PNG written and read back by Pillow and a figure saved by
# matplotlib: on 2.6.2 each binds to libpaddle's zlib and segfaults unless the system's
# libz came first (paddle_lr/__init__.py imports the zlib module for that).
_PNG_AFTER_PADDLE = """
import io
import paddle_lr, paddle
import numpy as np
from PIL import Image
from matplotlib.figure import Figure
from matplotlib.backends.backend_agg import FigureCanvasAgg
buf = io.BytesIO()
Image.fromarray(np.arange(64 * 64 * 3, dtype=np.uint8).reshape(64, 64, 3)).save(buf, format="PNG")
buf.seek(0)
image = np.asarray(Image.open(buf).convert("RGB"))
figure = Figure()
FigureCanvasAgg(figure)
figure.add_subplot().plot([0, 1])
figure.savefig(io.BytesIO(), format="png")
print(image.shape, int(image[63, 63, 2]))
"""


def test_import_adds_no_demo_package():
    run = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "import paddle_lr adds []" in run.stdout, run.stdout


def test_png_after_paddle_keeps_its_zlib():
    run = subprocess.run([sys.executable, "-c", _PNG_AFTER_PADDLE], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.split("\n")[-2] == f"(64, 64, 3) {(64 * 64 * 3 - 1) % 256}", run.stdout
