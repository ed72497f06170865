"""Who may import whom: the house plan as data, and the import graph it is checked against.

    artifact.core            stdlib only (tomli below Python 3.11), Python 3.6-safe, no TensorFlow
    artifact.device.*        the board: core and the device packages below its own level
    artifact.host.*          the reader of results: core and host packages, never TensorFlow
    artifact.cli             the entry point: core at module level; each command imports one side

`tests/behaviour/test_architecture.py` fails on any import that breaks `ALLOWED` (or a circle), and
`invoke lint` runs vermin (Python 3.6) over `device_closure()`, every module a board imports.
Run `python -m artifact.layers` to print that closure. Stdlib only: it reads source, imports nothing.
"""
import ast
import os
import re
import sys
from typing import Dict, Iterable, List, Optional, Set, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

ROOT = os.path.dirname(os.path.abspath(__file__))

# package -> the artifact packages its modules may import (itself included where listed)
ALLOWED = {
    "artifact.core": ("artifact.core",),
    "artifact.device.compat": ("artifact.core",),
    "artifact.device.measure": ("artifact.core", "artifact.device.compat", "artifact.device.measure"),
    "artifact.device.compress": ("artifact.core", "artifact.device.compat", "artifact.device.compress"),
    "artifact.device.models": ("artifact.core", "artifact.device.compat", "artifact.device.measure",
                               "artifact.device.models"),
    "artifact.device.train": ("artifact.core", "artifact.device.compat", "artifact.device.measure",
                              "artifact.device.compress", "artifact.device.models", "artifact.device.train"),
    "artifact.device.emulation": ("artifact.core", "artifact.device.emulation"),  # never imported by measure/
    "artifact.device.run": ("artifact.core", "artifact.device"),
    "artifact.host.judge": ("artifact.core", "artifact.host.judge"),
    "artifact.host.report": ("artifact.core", "artifact.host.judge", "artifact.host.advise", "artifact.host.report"),
    "artifact.host.containers": ("artifact.core", "artifact.host.containers", "artifact"),
    # the advisor ranks on the judge's numbers: summaries re-derived from the windows (host.judge.rederive)
    "artifact.host.advise": ("artifact.core", "artifact.host.judge", "artifact.host.advise"),
    "artifact.host.explore": ("artifact.core", "artifact.host.advise", "artifact.host.explore"),
    "artifact.host.fleet": ("artifact.core", "artifact.host.containers", "artifact.host.fleet"),
    "artifact.cli": ("artifact.core", "artifact.device", "artifact.host"),
    "artifact.__main__": ("artifact.cli",),
    "artifact.layers": (),
    "artifact": (),
}
# third-party packages a layer may not import at all
FORBIDDEN_THIRD_PARTY = {
    "artifact.host": ("tensorflow", "tf_keras", "keras", "tensorflow_model_optimization", "ai_edge_litert"),
}
CORE_THIRD_PARTY = ("tomli",)  # tomllib's backport for Python < 3.11 (artifact.core.tomlfile)
# the commands of artifact.cli that run on the host: the device closure does not follow their imports
HOST_COMMANDS = ("cmd_check", "cmd_report", "cmd_reproduce", "cmd_list", "cmd_advise", "cmd_explore", "cmd_summary",
                 "cmd_fleet")
# processes the device side starts, besides `python -m artifact run`
DEVICE_ENTRY_POINTS = ("artifact.cli", "artifact.__main__", "artifact.device.run.worker",
                       "artifact.device.run.memory_probe", "artifact.device.emulation.__main__")
# registries whose rows name device functions as "module:function", imported by name when a cell runs
# (artifact.core.techniques: `compress`): the modules they name are entry points of the device side too
DISPATCH_TABLES = ("core/techniques.py",)
_DISPATCHED = re.compile(r"^(artifact\.device(?:\.\w+)+):\w*$")


def dispatched_modules(source):
    # type: (str) -> List[str]
    """The device modules a registry's source names in "module:function" strings."""
    return sorted(set(m.group(1) for node in ast.walk(ast.parse(source))
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      for m in [_DISPATCHED.match(node.value)] if m))


class Import(object):
    """One import statement: which module, where (line, enclosing function), of what."""

    def __init__(self, importer, imported, line, function):
        self.importer, self.imported, self.line, self.function = importer, imported, line, function

    def __repr__(self):
        where = " in {}()".format(self.function) if self.function else ""
        return "{}:{}{} imports {}".format(self.importer, self.line, where, self.imported)


def modules(root=ROOT, package="artifact"):
    # type: (str, str) -> Dict[str, str]
    """Every module of the package: dotted name -> file."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        rel = os.path.relpath(folder, root)
        prefix = package if rel == "." else package + "." + rel.replace(os.sep, ".")
        for name in sorted(files):
            if name.endswith(".py"):
                out[prefix if name == "__init__.py" else prefix + "." + name[:-3]] = os.path.join(folder, name)
    return out


def _resolve(module, node, is_package):
    # type: (str, ast.ImportFrom, bool) -> str
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[:len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module, path, known):
    # type: (str, str, Iterable[str]) -> List[Import]
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), path)
    known = set(known)
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, child.lineno, function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, child, path.endswith("__init__.py"))
                for alias in child.names:  # `from pkg import module` imports pkg.module
                    sub = target + "." + alias.name
                    found.append(Import(module, sub if sub in known else target, child.lineno, function))
            else:
                visit(child, function)

    visit(tree, None)
    return found


def import_graph(root=ROOT, package="artifact"):
    # type: (str, str) -> Tuple[Dict[str, str], List[Import]]
    mods = modules(root, package)
    edges = []
    for name, path in mods.items():
        edges.extend(imports_of(name, path, mods))
    return mods, edges


def owner(module, table):
    # type: (str, Iterable[str]) -> Optional[str]
    """The longest key of `table` that is `module` or a package above it."""
    matches = [k for k in table if module == k or module.startswith(k + ".")]
    return max(matches, key=len) if matches else None


def violations(root=ROOT, package="artifact"):
    # type: (str, str) -> List[str]
    """Every import that breaks the house plan, one line each (empty: the plan holds)."""
    mods, edges = import_graph(root, package)
    problems = []
    for edge in edges:
        layer = owner(edge.importer, ALLOWED)
        top = edge.imported.split(".")[0]
        if top == "artifact":
            allowed = ALLOWED.get(layer, ()) if layer else ()
            if edge.imported == "artifact" and "artifact" in allowed:
                continue
            if not any(edge.imported == a or edge.imported.startswith(a + ".") for a in allowed if a != "artifact") \
                    and not (edge.imported == "artifact" and "artifact" in allowed):
                problems.append("{}: {} may import only {}".format(edge, layer, ", ".join(allowed) or "nothing"))
            if edge.importer == "artifact.cli" and edge.function is None and not edge.imported.startswith(
                    "artifact.core"):
                problems.append("{}: artifact.cli imports only artifact.core at module level".format(edge))
            continue
        if layer == "artifact.core" and top not in sys.stdlib_module_names and top not in CORE_THIRD_PARTY:
            problems.append("{}: artifact.core imports the standard library only".format(edge))
        for scope, banned in FORBIDDEN_THIRD_PARTY.items():
            if (edge.importer == scope or edge.importer.startswith(scope + ".")) and top in banned:
                problems.append("{}: {} never imports {}".format(edge, scope, top))
    for function in sorted({e.function for e in edges if e.importer == "artifact.cli" and e.function}):
        sides = {s for e in edges if e.importer == "artifact.cli" and e.function == function
                 for s in ("artifact.device", "artifact.host") if e.imported.startswith(s + ".")}
        if len(sides) > 1:
            problems.append("artifact.cli {}() imports both artifact.device and artifact.host".format(function))
        if "artifact.host" in sides and function not in HOST_COMMANDS:
            problems.append("artifact.cli {}() imports artifact.host but is not in HOST_COMMANDS".format(function))
    problems.extend("import circle: " + " -> ".join(c) for c in circles(mods, edges))
    return problems


def circles(mods, edges):
    # type: (Dict[str, str], List[Import]) -> List[List[str]]
    """Strongly connected groups of more than one module (Tarjan), lazy imports included."""
    graph = {m: sorted({e.imported for e in edges if e.importer == m and e.imported in mods and e.imported != m})
             for m in mods}
    index, low = {}, {}  # type: Dict[str, int], Dict[str, int]
    stack, on_stack, out = [], set(), []  # type: List[str], Set[str], List[List[str]]

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return out


def device_closure(root=ROOT, package="artifact"):
    # type: (str, str) -> List[str]
    """Files of every module the device side can import, from its entry points (host commands excluded)."""
    mods, edges = import_graph(root, package)
    named = []  # type: List[str]
    for table in DISPATCH_TABLES:
        with open(os.path.join(root, table)) as handle:
            named += dispatched_modules(handle.read())
    todo, seen = [m for m in DEVICE_ENTRY_POINTS + tuple(named) if m in mods], set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in mods)  # packages
        for edge in edges:
            if edge.importer == module and edge.imported in mods and not (
                    module == "artifact.cli" and edge.function in HOST_COMMANDS):
                todo.append(edge.imported)
    return sorted(os.path.relpath(mods[m], os.path.dirname(root)) for m in seen)


if __name__ == "__main__":
    print(" ".join(device_closure()))
