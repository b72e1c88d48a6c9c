"""Every public function of the analysis package (and of the app's plain modules, the oTree
glue included) documents each of its parameters in its docstring."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
#: The plain modules of the app; not `__init__.py`, `tests.py` or the oTree views
#: (`instructor.py`, `class_results_view.py`).
APP_MODULES = ("otree_glue", "class_results", "dashboard", "manage", "privacy", "survey_page",
               "texts", "tidy", "withdrawal", "assignment")
CHECKED = [*sorted((REPO / "analysis").glob("*.py")),
           *(REPO / "collab_experiment" / f"{name}.py" for name in APP_MODULES)]


def undocumented(path: pathlib.Path) -> list[str]:
    """`function: missing parameters` for each public function or public class's method of a
    module whose docstring lacks a parameter's name (or the docstring itself)."""
    tree = ast.parse(path.read_text())
    problems = []

    def check(fn, owner=""):
        if fn.name.startswith("_"):
            return
        args = fn.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        names = [n for n in names if n not in ("self", "cls")]
        doc = ast.get_docstring(fn) or ""
        missing = [n for n in names if not re.search(rf"(?<!\w){re.escape(n)}(?!\w)", doc)]
        if not doc or missing:
            problems.append(f"{owner}{fn.name}: {'no docstring' if not doc else ', '.join(missing)}")

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            check(node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    check(sub, f"{node.name}.")
    return problems


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(REPO)))
def test_public_functions_document_every_parameter(path):
    assert not undocumented(path)


def test_the_check_finds_an_undocumented_parameter(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('def f(a, b):\n    """Uses a."""\n\n\ndef g():\n    pass\n\n\ndef _h(x):\n    pass\n')
    assert undocumented(module) == ["f: b", "g: no docstring"]
