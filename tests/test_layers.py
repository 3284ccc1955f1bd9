"""The package's layers: a module imports only from its own layer or from earlier ones."""

import ast
from pathlib import Path

import helpers

PACKAGE = Path(helpers.__file__).parent


def _layer(parts: list[str]) -> int:
    return helpers.LAYERS.index(parts[0]) if parts and parts[0] in helpers.LAYERS else -1


def _imports(path: Path, root: Path = PACKAGE):
    """(line, imported module as a list of parts inside helpers) of every relative or helpers
    import."""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
            elif node.module and node.module.split(".")[0] == "helpers":
                base = []
                node_module = node.module.split(".")[1:]
                yield node.lineno, node_module + ([node.names[0].name] if not node_module else [])
                continue
            else:
                continue
            module = base + (node.module.split(".") if node.module else [])
            if node.module is None:  # from . import a, b
                for alias in node.names:
                    yield node.lineno, module + [alias.name]
            else:
                yield node.lineno, module
        elif isinstance(node, (ast.Import,)):
            for alias in node.names:
                if alias.name.split(".")[0] == "helpers":
                    yield node.lineno, alias.name.split(".")[1:]


def test_every_module_sits_in_a_layer():
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts in (["__init__"], ["__main__"], ["cli"]):
            continue
        assert _layer(parts) >= 0, f"{path.relative_to(PACKAGE)} is in no layer of helpers.LAYERS"


def test_no_module_imports_a_later_layer():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        own = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if own in (["__init__"], ["__main__"], ["cli"]):
            continue
        for line, module in _imports(path):
            if _layer(module) > _layer(own):
                bad.append(f"{path.relative_to(PACKAGE)}:{line} imports {'.'.join(module)}")
    assert not bad, "imports against the data flow:\n" + "\n".join(bad)


def test_the_check_sees_a_violation(tmp_path):
    """The parser finds a later-layer import in a module of a fake package (so the test above can
    fail), and accepts an earlier-layer one."""
    (tmp_path / "simulation").mkdir()
    fake = tmp_path / "simulation" / "probe.py"
    fake.write_text(
        "from ..studies import robustness\nfrom .. import paths\nfrom . import debye\n"
    )
    found = list(_imports(fake, tmp_path))
    assert [m for _, m in found] == [["studies"], ["paths"], ["simulation", "debye"]]
    assert [_layer(m) > _layer(["simulation"]) for _, m in found] == [True, False, False]
