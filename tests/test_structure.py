"""The package's shape, as docs/architecture.md ("The public surface") writes it down: no module imports a private
name (a module, class, function or constant whose name starts with one underscore) of another package."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path, root: Path) -> tuple[str, ...]:
    parts = path.relative_to(root).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def private_imports(root: Path, package: str = "wxhook") -> Iterator[str]:
    """``file:line: name`` for every import of a private name that lives in a package the importing module is not
    in (a package's private names are for its own modules and the packages inside it)."""
    for path in sorted((root / package).rglob("*.py")):
        module = _module(path, root)
        home = module if path.name == "__init__.py" else module[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = home[: len(home) - node.level + 1]
                    target = (*base, *(node.module.split(".") if node.module else ()))
                else:
                    target = tuple((node.module or "").split("."))
                names = [(*target, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [tuple(alias.name.split(".")) for alias in node.names]
            else:
                continue
            for name in names:
                if name[0] != package:
                    continue
                private = next((i for i, part in enumerate(name) if part.startswith("_")
                                and not part.startswith("__")), None)
                if private is None:
                    continue
                owner = name[:private]  # the package the private name belongs to, not a module in it
                if not root.joinpath(*owner).is_dir():
                    owner = owner[:-1]
                if home[:len(owner)] != owner:
                    yield f"{path.relative_to(root)}:{node.lineno}: {'.'.join(name)}"


def test_no_module_imports_a_private_name_of_another_package() -> None:
    assert list(private_imports(ROOT)) == []


def test_the_check_finds_each_kind_of_private_import(tmp_path: Path) -> None:
    files = {
        "wxhook/__init__.py": "from ._util import helper\n",  # its own package's: allowed
        "wxhook/_util.py": "",
        "wxhook/api/__init__.py": "from .._util import helper\n",  # a package inside: allowed
        "wxhook/api/_caller.py": "from ._client import Client\n",
        "wxhook/replies.py": "from .api._caller import Caller\nfrom .api import _custom\n",
        "wxhook/platform/_service.py": "import wxhook.api._caller\nfrom ..messages import _table\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert list(private_imports(tmp_path)) == [
        "wxhook/platform/_service.py:1: wxhook.api._caller",
        "wxhook/replies.py:1: wxhook.api._caller.Caller",
        "wxhook/replies.py:2: wxhook.api._custom",
    ]
