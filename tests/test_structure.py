"""The package's shape, as docs/architecture.md ("The public surface") writes it down: no module imports a private
name (a module, class, function or constant whose name starts with one underscore) of another package; each public
name is in the ``__all__`` of one door, built from the ``__all__`` of the module that defines it."""

from __future__ import annotations

import ast
import collections
import fnmatch
import importlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# The public surface: four doors, each name in one of them, each door's __all__ built from its modules' own.
DOORS = ("wxhook", "wxhook.api", "wxhook.platform", "wxhook.testing")
_BUILT_LIKE_A_DOOR = (*DOORS, "wxhook.stores")  # the stores' names are the top level's share of its sub-package


def _exports(name: str) -> list[str]:
    return list(importlib.import_module(name).__all__)


@pytest.mark.parametrize("door", DOORS)
def test_a_door_lists_each_name_once_and_has_it(door: str) -> None:
    names = _exports(door)
    assert [name for name, count in collections.Counter(names).items() if count > 1] == []
    module = importlib.import_module(door)
    assert [name for name in names if not hasattr(module, name)] == []


def test_no_name_is_in_two_doors() -> None:
    for one, other in itertools.combinations(DOORS, 2):
        assert set(_exports(one)) & set(_exports(other)) == set(), (one, other)


def _init(package: str) -> ast.Module:
    return ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text(encoding="utf-8"))


def _defined(tree: ast.Module) -> set[str]:
    """The names a module binds itself at its top level (not by importing them)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


@pytest.mark.parametrize("package", _BUILT_LIKE_A_DOOR)
def test_a_door_builds_its_names_from_its_modules_own(package: str) -> None:
    """``__all__ = [*module.__all__, …]`` (and the few names the ``__init__`` defines itself): a name is written
    once, in the ``__all__`` of the module that defines it, never again in the door."""
    tree = _init(package)
    (listed,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets)]
    assert isinstance(listed, ast.List)
    modules, own = [], []
    for item in listed.elts:
        if isinstance(item, ast.Starred):
            assert isinstance(item.value, ast.Attribute) and item.value.attr == "__all__", ast.unparse(item)
            modules.append(ast.unparse(item.value.value))
        else:
            assert isinstance(item, ast.Constant), ast.unparse(item)
            own.append(item.value)
    assert set(own) <= _defined(tree), f"{package} lists names it does not define: {set(own) - _defined(tree)}"
    for name in modules:
        module = importlib.import_module(f"{package}.{name}")
        assert module.__file__ is not None
        if module.__file__.endswith("__init__.py"):  # a sub-package, checked as a door of its own
            assert module.__name__ in _BUILT_LIKE_A_DOOR
            continue
        undefined = set(module.__all__) - _defined(ast.parse(Path(module.__file__).read_text(encoding="utf-8")))
        assert undefined == set(), f"{module.__name__}.__all__ names what it only imports: {undefined}"


def test_a_name_that_moved_door_is_still_importable_with_a_warning() -> None:
    import wxhook
    import wxhook.api
    import wxhook.platform
    import wxhook.testing

    for door, name, home, now in (
        (wxhook, "Client", wxhook.api, "Client"),
        (wxhook, "KfAccount", wxhook.api, "KfAccount"),
        (wxhook, "QRActionName", wxhook.api, "QRActionName"),
        (wxhook, "Platform", wxhook.platform, "Platform"),
        (wxhook.api, "Article", wxhook, "Article"),
        (wxhook.testing, "Authorized", wxhook.testing, "FakeAuthorization"),
    ):
        with pytest.warns(DeprecationWarning, match=rf"from {home.__name__} import {now}\b"):
            assert getattr(door, name) is getattr(home, now)
        assert name not in door.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        wxhook.Nothing  # noqa: B018 - an unknown name is still an AttributeError


# docs/architecture.md is the contributors' map: it names every module of the package, and no module that is gone.
_MAP = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_the_architecture_map_names_every_module() -> None:
    modules = [path.name for path in (ROOT / "wxhook").glob("*.py") if path.stem not in ("__init__", "__main__")]
    packages = [f"{path.name}/" for path in (ROOT / "wxhook").iterdir() if (path / "__init__.py").exists()]
    missing = [name for name in (*modules, *packages) if not re.search(rf"(?<![\w/]){re.escape(name)}", _MAP)]
    assert missing == [], f"docs/architecture.md does not place {missing}"


def test_the_architecture_map_names_no_module_that_is_gone() -> None:
    files = [path.relative_to(ROOT).as_posix() for path in (*ROOT.glob("wxhook/**/*.py"), *ROOT.glob("tests/**/*.py"))]
    gone = [name for name in sorted(set(re.findall(r"`([\w/*.-]+\.py)`", _MAP)))
            if not any(fnmatch.fnmatch(path, f"*{name}") for path in files)]
    assert gone == [], f"docs/architecture.md names modules that do not exist: {gone}"
