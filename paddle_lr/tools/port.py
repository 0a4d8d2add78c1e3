"""port: rewrite the learning-rate part of fluid-era Python files to paddle_lr.

    paddle-lr-port utils/optimizer.py -o ported/optimizer.py
    paddle-lr-port utils/*.py -o ported/
    paddle-lr-port optimization.py --in-place
    paddle-lr-port optimization.py --diff

With libcst (a concrete syntax tree), so everything the port does not touch
stays byte for byte as it was: formatting, comments, the rest of the file.
Each name is resolved through the imports that bind it, whatever the alias
(``import paddle.fluid as fluid``, ``import paddle.fluid.layers.ops as ops``,
``from paddle.fluid.layers import learning_rate_scheduler as lr_scheduler``,
``from paddle.fluid.layers.learning_rate_scheduler import _decay_step_counter``,
...), and rewritten by :data:`NAMES` (docs/porting.md's table and the rest of
fluid's learning-rate names); the fluid imports are deleted and
``import paddle_lr, paddle; paddle.enable_static()`` takes the place of the
first. Besides names:

* ``with init_on_cpu():`` (fluid 1.8 no longer has it) becomes its body;
* ``fluid.layers.cond(pred, true_fn[, false_fn])`` as a statement becomes a
  ``paddle_lr.Switch`` with ``true_fn()`` in ``case(pred)`` (and ``false_fn()``
  in ``default()``); a ``cond`` whose result is used is left;
* ``fluid.optimizer.<X>(...)`` becomes ``paddle_lr.<X>(...)``, which takes the
  lr tensor and fluid's keywords (``regularization=``, ``parameter_list=``,
  ``grad_clip=``, ``name=``) as written.

Every other use of a fluid name is left as it was and listed, one line each,
``FILE:LINE: NAME: why``. Exit status: 0 when everything was ported, 1 when
something was left (the rest is still written), 2 on bad input.
"""
import ast
import dataclasses
import difflib
import pathlib
import re
import sys
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import PositionProvider, QualifiedNameProvider, QualifiedNameSource

from .. import rules
from ..schedules.registry import REGISTRY
from ._cli import ArgumentParser, UsageError, run

__all__ = ["PROG", "NAMES", "OPTIMIZERS", "Port", "port_source", "main"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-port"

FLUID = "paddle.fluid"
#: what ``import paddle.fluid as fluid`` becomes (docs/porting.md's table).
NEW_IMPORT = "import paddle_lr, paddle; paddle.enable_static()"
#: submodules of ``fluid.layers`` whose names are also ``fluid.layers``' own.
_LAYER_MODULES = ("tensor", "learning_rate_scheduler", "control_flow", "ops", "nn", "math_op_patch")

#: fluid's elementwise_min/max, ported to Paddle's minimum/maximum when called without axis= or act=.
MINMAX = {"layers.elementwise_min": "paddle.minimum", "layers.elementwise_max": "paddle.maximum"}
#: fluid name (under ``paddle.fluid``, ``layers`` submodules folded) -> its paddle_lr/paddle spelling.
NAMES: Dict[str, str] = {
    "layers.create_global_var": "paddle_lr.create_global_var",
    "layers.fill_constant": "paddle_lr.fill_constant",
    "layers._decay_step_counter": "paddle_lr.decay_step_counter",
    "layers.autoincreased_step_counter": "paddle_lr.autoincreased_step_counter",
    "layers.Switch": "paddle_lr.Switch",
    "layers.assign": "paddle_lr.assign",
    **{f"layers.{name}": f"paddle_lr.{name}" for name in REGISTRY},
    "layers.cast": "paddle.cast",
    "layers.floor": "paddle.floor",
    "layers.cos": "paddle.cos",
    **MINMAX,
    "default_main_program": "paddle.static.default_main_program",
    "default_startup_program": "paddle.static.default_startup_program",
    "Program": "paddle.static.Program",
    "program_guard": "paddle.static.program_guard",
    "Executor": "paddle.static.Executor",
    "global_scope": "paddle.static.global_scope",
    "CPUPlace": "paddle.CPUPlace",
    "CUDAPlace": "paddle.CUDAPlace",
    "unique_name": "paddle.utils.unique_name",
    "unique_name.generate": "paddle.utils.unique_name.generate",
    "unique_name.guard": "paddle.utils.unique_name.guard",
    "framework.name_scope": "paddle.static.name_scope",
    "name_scope": "paddle.static.name_scope",
    "clip.set_gradient_clip": "paddle_lr.set_gradient_clip",  # Paddle's own clips nothing under PIR
    "clip.GradientClipByGlobalNorm": "paddle.nn.ClipGradByGlobalNorm",
    "regularizer.L2Decay": "paddle_lr.L2Decay",
    "regularizer.L2DecayRegularizer": "paddle_lr.L2Decay",
    # the modules themselves, as objects (getattr(optimizer, name)): paddle_lr has their lr names
    "optimizer": "paddle_lr",
    "regularizer": "paddle_lr",
}
#: fluid's optimizers (both spellings) -> paddle_lr's, which take the lr tensor and fluid's keywords.
OPTIMIZERS = {
    "SGD": "SGD", "SGDOptimizer": "SGD",
    "Momentum": "Momentum", "MomentumOptimizer": "Momentum",
    "RMSProp": "RMSProp", "RMSPropOptimizer": "RMSProp",
    "Adam": "Adam", "AdamOptimizer": "Adam",
}
NAMES.update({f"optimizer.{fluid_name}": f"paddle_lr.{name}" for fluid_name, name in OPTIMIZERS.items()})
INIT_ON_CPU = "initializer.init_on_cpu"
INIT_ON_CPU_NOTE = ("`with init_on_cpu():` removed, its body kept: fluid 1.8 no longer has init_on_cpu (it made "
                    "the block's constants on the CPU; in a CPU run they are there anyway, and "
                    "fill_constant(force_cpu=True) puts one there on any device)")
COND = "layers.cond"


def canonical(qualified: str) -> Optional[str]:
    """``paddle.fluid.layers.tensor.assign`` -> ``layers.assign``; None when not a fluid name."""
    if qualified == FLUID:
        return ""
    if not qualified.startswith(FLUID + "."):
        return None
    parts = qualified[len(FLUID) + 1:].split(".")
    if len(parts) > 2 and parts[0] == "layers" and parts[1] in _LAYER_MODULES:
        parts = [parts[0], *parts[2:]]
    return ".".join(parts)


@dataclasses.dataclass
class Port:
    """One file's port: the new source, what was ported, what was left and what was changed besides names."""

    source: str
    ported: Counter = dataclasses.field(default_factory=Counter)  # (as written, new) -> count
    left: List[Tuple[int, str, str]] = dataclasses.field(default_factory=list)  # (line, as written, why)
    notes: List[Tuple[int, str]] = dataclasses.field(default_factory=list)  # (line, what)


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _dotted(node: cst.CSTNode) -> bool:
    """Whether ``node`` is a name or a chain of attributes of one (``a.b.c``)."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _shown(node: cst.CSTNode) -> str:
    """A name as written, on one line (a backslash continuation joined)."""
    return re.sub(r"\\\n\s*|\n\s*", "", _code(node))


class _Porter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, result: Port, taken_names: set):
        super().__init__()
        self.result = result
        self.replace: Dict[cst.CSTNode, cst.BaseExpression] = {}
        self.switch_name = next(n for n in ("switch", "switch_", "_switch") if n not in taken_names)
        self.imports_placed = False
        self.dropped: set = set()  # lines whose every import was fluid's

    # -- resolving ---------------------------------------------------------
    def fluid_name(self, node: cst.CSTNode) -> Optional[str]:
        """The fluid name the dotted name ``node`` refers to through an import (:func:`canonical`), or None."""
        if not _dotted(node):  # libcst names fluid.default_main_program()._lr_schedule_guard without the ()
            return None
        try:
            names = self.get_metadata(QualifiedNameProvider, node)
        except KeyError:
            return None
        for qualified in names:
            if qualified.source is QualifiedNameSource.IMPORT:
                name = canonical(qualified.name)
                if name is not None:
                    return name
        return None

    def line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def leave_out(self, node: cst.CSTNode, why: str) -> None:
        self.result.left.append((self.line(node), _shown(node), why))

    def _visit_name(self, node: cst.BaseExpression) -> bool:
        name = self.fluid_name(node)
        if name is None:
            return True
        if name in NAMES:
            new = NAMES[name]
            self.replace[node] = cst.parse_expression(new)
            self.result.ported[(_shown(node), new)] += 1
        elif name == INIT_ON_CPU:  # removed with its `with` (leave_With), or left (leave_Module)
            self.init_on_cpu.append(node)
        elif name != COND:  # a cond call is ported (or left) as a statement, in leave_SimpleStatementLine
            self.leave_out(node, "not a learning-rate name paddle_lr ports (paddle 2.x and 3.x have no paddle.fluid)")
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._visit_name(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._visit_name(node)

    def leave_Attribute(self, original_node, updated_node):
        return self.replace.get(original_node, updated_node)

    def leave_Name(self, original_node, updated_node):
        return self.replace.get(original_node, updated_node)

    # -- calls -----------------------------------------------------------------
    def leave_Call(self, original_node, updated_node):
        name = self.fluid_name(original_node.func)
        if name is None:
            return updated_node
        if name == COND:
            self.conds.append(original_node)
            return updated_node
        if name in MINMAX and (len(updated_node.args) > 2 or any(
                arg.keyword is not None and arg.keyword.value in ("axis", "act") for arg in updated_node.args)):
            self.result.ported[(_shown(original_node.func), NAMES[name])] -= 1
            self.leave_out(original_node.func, f"{MINMAX[name]} has no axis= or act=")
            return updated_node.with_changes(func=original_node.func)
        return updated_node

    def visit_Module(self, node):
        self.conds: List[cst.Call] = []
        self.statement_conds: set = set()
        self.init_on_cpu: List[cst.CSTNode] = []
        self.init_on_cpu_removed: set = set()
        return True

    def _drop_deleted(self, body: Sequence[cst.BaseStatement]) -> List[cst.BaseStatement]:
        """``body`` without the lines of deleted imports; the comments above one go to the next line."""
        out: List[cst.BaseStatement] = []
        carried: List[cst.EmptyLine] = []
        for statement in body:
            if statement in self.dropped:
                carried += statement.leading_lines
                continue
            if any(line.comment is not None for line in carried) or not statement.leading_lines:
                statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
            carried = []
            out.append(statement)
        if not out:  # a block of fluid imports alone: keep one, as `pass`
            return [body[0]]
        return out

    def leave_IndentedBlock(self, original_node, updated_node):
        return updated_node.with_changes(body=self._drop_deleted(updated_node.body))

    def leave_Module(self, original_node, updated_node):
        updated_node = updated_node.with_changes(body=self._drop_deleted(updated_node.body))
        for node in self.init_on_cpu:
            if node not in self.init_on_cpu_removed:
                self.leave_out(node, "init_on_cpu outside `with init_on_cpu():`: fluid 1.8 has no init_on_cpu")
        for call in self.conds:
            if call not in self.statement_conds:
                self.leave_out(call.func, "cond's result is used: port by hand (paddle.static.nn.cond, "
                                          "or paddle_lr.Switch where its functions assign into the lr)")
        return updated_node

    def _cond_args(self, call: cst.Call) -> Optional[Dict[str, cst.BaseExpression]]:
        names = ("pred", "true_fn", "false_fn", "name")
        args: Dict[str, cst.BaseExpression] = {}
        for i, arg in enumerate(call.args):
            key = arg.keyword.value if arg.keyword else (names[i] if i < len(names) else None)
            if arg.star or key not in names:
                return None
            args[key] = arg.value
        return args if "pred" in args and "true_fn" in args else None

    def _switch_for(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        """``fluid.layers.cond(pred, true_fn[, false_fn])`` alone on its line: the Switch statement, or None."""
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Expr):
            return None
        call = original.body[0].value
        if not isinstance(call, cst.Call) or self.fluid_name(call.func) != COND:
            return None
        args = self._cond_args(updated.body[0].value)
        if args is None:
            return None
        self.statement_conds.add(call)
        s = self.switch_name
        lines = [f"with paddle_lr.Switch() as {s}:",
                 f"    with {s}.case({_code(args['pred'])}):",
                 f"        {_code(args['true_fn'])}()"]
        false_fn = args.get("false_fn")
        if false_fn is not None and not (isinstance(false_fn, cst.Name) and false_fn.value == "None"):
            lines += [f"    with {s}.default():", f"        {_code(false_fn)}()"]
        self.result.ported[(_shown(call.func) + "(...)", "with paddle_lr.Switch()")] += 1
        statement = cst.parse_statement("\n".join(lines) + "\n")
        return statement.with_changes(leading_lines=updated.leading_lines)

    # -- imports -------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    @staticmethod
    def _without_fluid(small: cst.BaseSmallStatement) -> Tuple[Optional[cst.BaseSmallStatement], bool]:
        """(the statement without its fluid names or None when none is left, whether it named fluid)."""
        if isinstance(small, cst.Import):
            kept = [a for a in small.names if canonical(_code(a.name)) is None]
        elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            module = _code(small.module)
            if isinstance(small.names, cst.ImportStar):
                return (None, True) if canonical(module) is not None else (small, False)
            kept = [a for a in small.names if canonical(f"{module}.{_code(a.name)}") is None]
        else:
            return small, False
        if len(kept) == len(small.names):
            return small, False
        if not kept:
            return None, True
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return small.with_changes(names=kept), True

    def leave_SimpleStatementLine(self, original_node, updated_node):
        switch = self._switch_for(original_node, updated_node)
        if switch is not None:
            return switch
        body, named_fluid = [], False
        for small in updated_node.body:
            kept, fluid = self._without_fluid(small)
            if fluid:
                named_fluid = True
                self.result.ported[(_shown(small), NEW_IMPORT if not self.imports_placed else "(deleted)")] += 1
                if not self.imports_placed:
                    body.extend(cst.parse_statement(NEW_IMPORT + "\n").body)
                    self.imports_placed = True
            if kept is not None:
                body.append(kept)
        if not named_fluid:
            return updated_node
        if not body:  # dropped in _drop_deleted, which keeps the comments above it
            dropped = updated_node.with_changes(body=[cst.Pass()])
            self.dropped.add(dropped)
            return dropped
        body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=body)

    # -- init_on_cpu ---------------------------------------------------------
    def leave_With(self, original_node, updated_node):
        removed = [orig.item.func for orig in original_node.items
                   if isinstance(orig.item, cst.Call) and self.fluid_name(orig.item.func) == INIT_ON_CPU]
        if not removed:
            return updated_node
        self.init_on_cpu_removed.update(removed)
        kept = [new for orig, new in zip(original_node.items, updated_node.items)
                if not (isinstance(orig.item, cst.Call) and orig.item.func in removed)]
        self.result.ported[("with init_on_cpu():", "its body")] += 1
        self.result.notes.append((self.line(original_node), INIT_ON_CPU_NOTE))
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated_node.with_changes(items=kept)
        body = list(updated_node.body.body)
        if isinstance(updated_node.body, cst.SimpleStatementSuite):
            body = [cst.SimpleStatementLine(body=body)]
        body[0] = body[0].with_changes(leading_lines=[*updated_node.leading_lines, *body[0].leading_lines])
        return cst.FlattenSentinel(body)


def _taken_names(module: cst.Module) -> set:
    names = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node):
            names.add(node.value)

    module.visit(Collect())
    return names


def port_source(source: str, path: str = "<source>") -> Port:
    """Port one file's text.

    Args:
        source (str): the fluid-era Python source.
        path (str): its name, for the syntax-error message.

    Returns:
        Port: the ported source and its summary.

    Raises:
        UsageError: ``source`` is not Python (one line with the line number).
    """
    try:
        ast.parse(source, path)  # Python's own message for a syntax error
        module = cst.parse_module(source)
    except SyntaxError as exc:
        raise UsageError(f"{PROG}: {path}: not Python: syntax error at line {exc.lineno}: {exc.msg}") from None
    except cst.ParserSyntaxError as exc:  # Python parses it, libcst does not
        raise UsageError(f"{PROG}: {path}: libcst cannot parse line {exc.raw_line}: "
                         f"{rules.one_line(exc.message)}") from None
    result = Port(source)
    result.source = cst.MetadataWrapper(module).visit(_Porter(result, _taken_names(module))).code
    result.left.sort()
    return result


def _parser():
    parser = ArgumentParser(
        prog=PROG,
        description="Rewrite the learning-rate part of fluid-era Python files to paddle_lr "
        "(everything else stays as it was); list what it leaves, with line numbers.",
        epilog="Exit status: 0 when everything was ported, 1 when something was left unported "
        "(the rest is still written), 2 on bad input.",
    )
    parser.add_argument("src", nargs="+", metavar="SRC", help="fluid-era Python files")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--out", metavar="OUT",
                       help="where to write: a file for one SRC (or a directory), a directory for several")
    where.add_argument("--in-place", action="store_true", help="rewrite each SRC")
    parser.add_argument("--diff", action="store_true",
                        help="print a unified diff to stdout (the summary then goes to stderr)")
    return parser


def _read(path: pathlib.Path) -> str:
    if not path.exists():
        raise UsageError(f"{PROG}: SRC: no such file: {str(path)!r}")
    if not path.is_file():
        raise UsageError(f"{PROG}: SRC: not a file: {str(path)!r}")
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except UnicodeDecodeError as exc:
        raise UsageError(f"{PROG}: {path}: not Python: not UTF-8 text (byte {exc.start})") from None


def _targets(args) -> List[Optional[pathlib.Path]]:
    sources = [pathlib.Path(s) for s in args.src]
    if args.in_place:
        return sources
    if args.out is None:
        if not args.diff:
            raise UsageError(f"{PROG}: give -o OUT, --in-place or --diff")
        return [None] * len(sources)
    out = pathlib.Path(args.out)
    if len(sources) == 1 and not out.is_dir():
        targets = [out]
    else:
        if out.exists() and not out.is_dir():
            raise UsageError(f"{PROG}: -o: with several SRC, OUT must be a directory, got the file {args.out!r}")
        names = Counter(s.name for s in sources)
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise UsageError(f"{PROG}: -o: several SRC would be written to the same file in {args.out!r}: {twice[0]!r}")
        targets = [out / s.name for s in sources]
    for source, target in zip(sources, targets):
        if source.exists() and target.exists() and source.resolve() == target.resolve():
            raise UsageError(f"{PROG}: -o: OUT is SRC {str(source)!r}; use --in-place to rewrite it")
    return targets


def _diff(old: str, new: str, fromfile: str, tofile: str) -> List[str]:
    """The unified diff, with diff's marker after a last line that has no newline."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile, tofile)
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]


def _summary(src: str, result: Port) -> List[str]:
    lines = [f"{src}: {sum(result.ported.values())} ported, {len(result.left)} left unported"]
    lines += [f"  {old} -> {new} (x{count})" if count > 1 else f"  {old} -> {new}"
              for (old, new), count in result.ported.items() if count > 0]
    lines += [f"{src}:{line}: note: {what}" for line, what in result.notes]
    lines += [f"{src}:{line}: {written}: {why}" for line, written, why in result.left]
    return lines


def _main(argv):
    args = _parser().parse_args(argv)
    targets = _targets(args)
    texts = [_read(pathlib.Path(src)) for src in args.src]
    results = [port_source(text, src) for src, text in zip(args.src, texts)]
    summary = sys.stderr if args.diff else sys.stdout
    for src, target, text, result in zip(args.src, targets, texts, results):
        if args.diff:
            sys.stdout.writelines(_diff(text, result.source, src, str(target) if target is not None else src))
            sys.stdout.flush()
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="") as f:
                f.write(result.source)
        print("\n".join(_summary(src, result)), file=summary)
    return 1 if any(result.left for result in results) else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``paddle-lr-port``.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: 0 when everything was ported, 1 when something was left unported, 2 on bad input.
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
