"""The layers written in [tool.importlinter] hold, and the check really catches a broken one.

Also: package ``__init__`` files only re-export, no module imports from its own package's ``__init__``, and no
function is complex (radon rank D or worse) without a ``# complexity:`` comment above it saying why.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parents[2]
LINT = (
    "from importlinter.cli import lint_imports; "
    "raise SystemExit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)


def _lint(root: Path, src: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the graph is built from the copy under test, not the installed package.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True, text=True)


def test_the_import_contracts_hold() -> None:
    result = _lint(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _broken_copy(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "src" / module
    path.write_text(path.read_text() + f"\n{line}\n")
    return _lint(tmp_path, tmp_path / "src")


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    result = _broken_copy(tmp_path, "dbops/core/urls.py", "import dbops.checks.engine  # noqa")
    assert result.returncode == 1
    assert "dbops.core.urls -> dbops.checks.engine" in result.stdout


def test_importing_billing_or_invoke_from_the_library_breaks_a_contract(tmp_path: Path) -> None:
    lines = "import billing.models  # noqa\nimport invoke  # noqa"
    result = _broken_copy(tmp_path, "dbops/migrations/snapshot.py", lines)
    assert result.returncode == 1
    assert "never imports billing BROKEN" in result.stdout
    assert "never imports invoke or nox BROKEN" in result.stdout


def test_sqlalchemy_in_dbops_breaks_a_contract(tmp_path: Path) -> None:
    """dbops runs without the project's libraries: importing SQLAlchemy or Alembic anywhere but the agent breaks."""
    cases = (("dbops/core/errors.py", "sqlalchemy"), ("dbops/checks/c6_history.py", "alembic"))
    for module, library in cases:
        result = _broken_copy(tmp_path / library, module, f"import {library}  # noqa")
        assert result.returncode == 1
        assert f"dbops is not allowed to import {library}" in result.stdout


def test_a_cycle_between_siblings_is_found(tmp_path: Path) -> None:
    result = _broken_copy(tmp_path, "dbops/core/errors.py", "import dbops.core.urls  # noqa")
    assert result.returncode == 1
    assert "no import cycles between sibling modules BROKEN" in result.stdout


def test_catch_alls_are_few_and_say_why() -> None:
    """At most five `except Exception` in dbops, each a named boundary whose comment says why nothing is hidden."""
    found = [
        (path.relative_to(ROOT), line)
        for path in sorted((ROOT / "src" / "dbops").rglob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if "except Exception" in line or line.strip() == "except:"
    ]
    assert len(found) <= 5, found
    for path, line in found:
        assert "  # " in line, (path, line)


INIT_LINES = 40


def _module(src: Path, path: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _init_problems(src: Path) -> list[str]:
    """Package ``__init__`` files longer than INIT_LINES or holding more than imports and constant assignments."""
    found = []
    for init in sorted((src / "dbops").rglob("__init__.py")):
        text, where = init.read_text(encoding="utf-8"), init.relative_to(src)
        if len(text.splitlines()) > INIT_LINES:
            found.append(f"{where}: {len(text.splitlines())} lines (at most {INIT_LINES} of re-exports)")
        for node in ast.parse(text).body:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            constant = isinstance(node, ast.Assign) and _is_literal(node.value)
            if not (docstring or constant or _lazy_export(node) or isinstance(node, (ast.Import, ast.ImportFrom))):
                found.append(f"{where}:{node.lineno}: {type(node).__name__} (only re-exports belong here)")
    return found


def _lazy_export(node: ast.stmt) -> bool:
    """A re-export made on first use (PEP 562): the names for type checkers, and a module ``__getattr__``."""
    if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
        return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body)
    return isinstance(node, ast.FunctionDef) and node.name == "__getattr__"


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def _self_imports(src: Path) -> list[str]:
    """Imports by which a module reaches its own package's ``__init__`` (or an enclosing one's, below ``dbops``)."""
    found = []
    for path in sorted((src / "dbops").rglob("*.py")):
        if path.name == "__init__.py":
            continue
        parts = _module(src, path).split(".")
        enclosing = {".".join(parts[:i]) for i in range(2, len(parts))}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                hits = [alias.name for alias in node.names if alias.name in enclosing]
            elif isinstance(node, ast.ImportFrom):
                package = parts[: len(parts) - node.level] if node.level else []
                base = ".".join([*package, *([node.module] if node.module else [])])
                names = [f"{base}.{alias.name}" for alias in node.names]
                # A sibling module is fine (``from dbops.lifecycle import templates``); the package itself, or a
                # name its __init__ re-exports, is not.
                hits = [n for n in names if n in enclosing or (base in enclosing and not _is_module(src, n))]
            else:
                continue
            found += [f"{path.relative_to(src)}:{node.lineno} imports {hit}" for hit in hits]
    return found


def _is_module(src: Path, dotted: str) -> bool:
    path = src.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _complex_without_why(src: Path) -> list[str]:
    """Functions and classes of radon rank D or worse without a ``# complexity:`` comment above them."""
    found = []
    for path in sorted((src / "dbops").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for block in cc_visit(text):
            if cc_rank(block.complexity) in "ABC" or _says_why(lines, block.lineno):
                continue
            found.append(f"{path.relative_to(src)}:{block.lineno} {block.name} {cc_rank(block.complexity)}")
    return found


def _says_why(lines: list[str], lineno: int) -> bool:
    above = lineno - 2
    while above >= 0 and lines[above].lstrip().startswith(("@", "#")):  # decorators and comments above the def
        if lines[above].lstrip().startswith("# complexity:"):
            return True
        above -= 1
    return False


def test_package_init_files_only_re_export() -> None:
    assert _init_problems(ROOT / "src") == []


def test_no_module_imports_from_its_own_package_init() -> None:
    assert _self_imports(ROOT / "src") == []


def test_no_function_is_complex_without_saying_why() -> None:
    assert _complex_without_why(ROOT / "src") == []


def _write(src: Path, module: str, text: str) -> None:
    path = src.joinpath(*module.split("."))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".py").write_text(text)


def test_the_structure_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src, "dbops.__init__", '"""Root."""\n')
    _write(
        src, "dbops.lifecycle.__init__", "from dbops.lifecycle.ops import reset\n" + "\n" * 40 + "def helper(): ...\n"
    )
    _write(src, "dbops.lifecycle.ops", "def reset(): ...\n")
    _write(src, "dbops.lifecycle.templates", "from dbops.lifecycle import ops, reset\nfrom dbops import lifecycle\n")
    _write(src, "dbops.lifecycle.stepdata", "from . import reset\nimport dbops.lifecycle\nfrom dbops import core\n")
    assert _init_problems(src) == [
        "dbops/lifecycle/__init__.py: 42 lines (at most 40 of re-exports)",
        "dbops/lifecycle/__init__.py:42: FunctionDef (only re-exports belong here)",
    ]
    assert _self_imports(src) == [
        "dbops/lifecycle/stepdata.py:1 imports dbops.lifecycle.reset",
        "dbops/lifecycle/stepdata.py:2 imports dbops.lifecycle",
        "dbops/lifecycle/templates.py:1 imports dbops.lifecycle.reset",
        "dbops/lifecycle/templates.py:2 imports dbops.lifecycle",
    ]


def test_the_complexity_check_wants_a_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(25))
    _write(src, "dbops.tangled", f"def tangled(x):\n{branches}    return -1\n")
    assert _complex_without_why(src) == ["dbops/tangled.py:1 tangled D"]
    _write(
        src,
        "dbops.tangled",
        f"# complexity: one branch per case of a table\ndef tangled(x):\n{branches}    return -1\n",
    )
    assert _complex_without_why(src) == []
