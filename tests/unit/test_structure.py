"""The structure of the project's Python: imports form no cycle, no module outgrows 600 lines, and
nothing patches the import path (the project is installed in the venv: pyproject.toml).

The import graph is read from the source (:mod:`ast`), so it holds whichever way a module is
started; imports under ``if TYPE_CHECKING:`` never run and are left out, every other import
(function-level ones too) is an edge. Importing ``a.b.c`` also runs ``a/__init__.py`` and
``a/b/__init__.py``: those are edges too.
"""

import ast
import re
from pathlib import Path

import pytest

from libraryops import paths

#: The project's importable Python (pyproject.toml), and the scripts and plugins that import it.
PACKAGES = ("libraryops", "deploy", "plugins", "tools")
SCRIPTS = ("azure", "roles")
#: Longest module allowed, in lines.
MAX_LINES = 600
#: A ``sys.path`` edit, a ``PYTHONPATH`` set (environment, YAML, make) or pytest's ``pythonpath``.
PATH_PATCH = re.compile(r"sys\.path\s*(\.\w+\(|\+?=|\[)|PYTHONPATH\s*[:=]|[\"']PYTHONPATH[\"']"
                        r"|^\s*pythonpath\s*=")


def _python_files(*tops: str) -> list[Path]:
    return sorted(f for top in tops for f in (paths.REPO / top).rglob("*.py")
                  if "molecule" not in f.parts and "__pycache__" not in f.parts)


def _module_name(file: Path) -> str:
    parts = file.relative_to(paths.REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name ``tree`` imports (relative imports resolved), outside TYPE_CHECKING."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".")
            base = base if is_package else base[:-1]
            prefix = ".".join(base[:len(base) - node.level + 1]) if node.level else ""
            target = ".".join(p for p in (prefix, node.module or "") if p)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules (and packages) importing it runs."""
    files = {_module_name(f): f for f in _python_files(*PACKAGES)}
    graph: dict[str, set[str]] = {}
    for name, file in files.items():
        edges = set()
        for target in _imported(ast.parse(file.read_text()), name, file.name == "__init__.py"):
            parts = target.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {t for t in edges if t in files and t != name
                       and not name.startswith(f"{t}.")}  # a package's own __init__ ran first
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as ``[a, b, ..., a]``, or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_graph_sees_function_level_imports_and_finds_a_cycle():
    tree = ast.parse("def f():\n    from libraryops.validation import base\n"
                     "if TYPE_CHECKING:\n    from libraryops import pipeline\n")
    assert _imported(tree, "libraryops.x", False) == {"libraryops.validation",
                                                      "libraryops.validation.base"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_projects_modules():
    graph = import_graph()
    assert "libraryops.validation.base" in graph
    assert find_cycle(graph) == []


def test_the_validation_base_imports_nothing_above_it():
    graph = import_graph()
    assert not {m for m in graph["libraryops.validation.base"]
                if m.startswith("libraryops.validation")}


@pytest.mark.parametrize("file", _python_files(*PACKAGES, *SCRIPTS),
                         ids=lambda f: str(f.relative_to(paths.REPO)))
def test_no_module_over_600_lines(file):
    lines = len(file.read_text().splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split it by concern"


def test_the_path_patch_pattern_finds_each_way_of_patching():
    for line in ("sys.path.insert(0, repo)", "env = dict(os.environ, PYTHONPATH=repo)",
                 "    PYTHONPATH: ${MOLECULE_PROJECT_DIRECTORY}/../..", 'pythonpath = ["."]',
                 'env["PYTHONPATH"] = repo', "sys.path[:0] = [repo]"):
        assert PATH_PATCH.search(line), line
    assert not PATH_PATCH.search("started outside the repository without PYTHONPATH")


def test_nothing_patches_the_import_path():
    tops = (*PACKAGES, *SCRIPTS, "tests/unit", "tests/integration", "tests/testinfra",
            "tests/stock")
    files = [f for f in _python_files(*tops) if f != Path(__file__).resolve()]
    files += [paths.REPO / "Makefile", paths.REPO / "pyproject.toml", paths.REPO / ".ci" / "run"]
    files += sorted((paths.REPO / "roles").glob("*/molecule/*/molecule.yml"))
    patched = [f"{f.relative_to(paths.REPO)}:{n}" for f in files
               for n, line in enumerate(f.read_text().splitlines(), 1) if PATH_PATCH.search(line)]
    assert patched == []
