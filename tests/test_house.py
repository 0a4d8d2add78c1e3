"""The house's own rules that a test can hold: the public API is annotated.

(The import contracts are import-linter's, ``.importlinter``; the types are mypy's,
``mypy.ini``; ``.ci/run`` runs both.)
"""
import inspect

import pytest

import paddle_lr
from paddle_lr import config, planning


def _public():
    for module in (paddle_lr, config, planning):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or (inspect.isclass(obj) and "__init__" in vars(obj)):
                yield pytest.param(obj, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("obj", list(_public()))
def test_public_api_is_annotated(obj):
    function = obj.__init__ if inspect.isclass(obj) else obj
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    assert not missing, f"{obj.__qualname__}: no annotation for {', '.join(missing)}"
