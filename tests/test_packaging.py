"""The distribution is named in pyproject.toml (wxhook-mp); ``wxhook`` on the package index is another project (a
Windows hooking tool for WeChat's PC client), so no install line or requirement in the repository may name it:
in a fresh environment it would install someone else's code. The import name and the command stay ``wxhook``.

Every text file git knows of (tracked, or new and not ignored) is read, except this one; in CHANGELOG.md, a line
that names the new distribution too (the rename note, showing an old line beside its new form) is let through.
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME = PROJECT["name"]
TAKEN = "wxhook"

# the taken name as a requirement: with extras, a version specifier or a direct reference
_TAKEN_FORMS = re.compile(
    rf"(?<![\w.-]){TAKEN}(?:\[|\s*(?:===|==|~=|!=|>=|<=|<|>)\s*\d|\s*@\s*(?:git\+|https?:|file:))", re.IGNORECASE
)
_INSTALL = re.compile(r"\b(?:pip3?|pipx)\s+install\b|\b(?:uv|poetry)\s+add\b")
_COMMAND_END = re.compile(r"`|&&|\|\||[;|#]")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_REQUIREMENTS_FILE = re.compile(r"(requirements|constraints)[^/]*\.(txt|in)$")
_OWN_EXTRAS = re.compile(rf"(?<![\w.-]){re.escape(NAME)}\[([^\]]*)\]")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names_taken(requirement: str) -> bool:
    """True if a requirement (``wxhook[redis]>=0.1``, ``"wxhook"``, a token of a pip command) is the taken name."""
    found = _REQUIREMENT_NAME.match(requirement.strip().strip("'\"()"))
    return found is not None and _normalized(found.group()) == TAKEN


def _installed_by(line: str) -> Iterator[str]:
    """The arguments of every install command on a line, up to where a shell or a code span ends the command."""
    for command in _INSTALL.finditer(line):
        rest = _COMMAND_END.split(line[command.end():], 1)[0]
        try:
            words = shlex.split(rest)
        except ValueError:  # an unclosed quote: the command goes on past this line or into prose
            words = rest.split()
        yield from (word for word in words if not word.startswith("-"))


@functools.cache
def _texts() -> list[tuple[str, str]]:
    """(path from the root, text) of every text file git lists, but this one."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    texts = []
    for relative in sorted(set(filter(None, listed.split("\0")))):
        path = ROOT / relative
        if not path.is_file() or path == Path(__file__).resolve():
            continue
        data = path.read_bytes()
        try:
            if b"\0" not in data:
                texts.append((relative, data.decode("utf-8")))
        except UnicodeDecodeError:  # an image, or another binary file
            pass
    return texts


def _violations(relative: str, text: str) -> Iterator[str]:
    requirements_file = _REQUIREMENTS_FILE.search(relative) is not None
    for number, line in enumerate(text.splitlines(), 1):
        if relative == "CHANGELOG.md" and NAME in line:
            continue
        taken = (_TAKEN_FORMS.search(line) is not None
                 or any(_names_taken(word) for word in _installed_by(line))
                 or (requirements_file and not line.lstrip().startswith(("#", "-")) and _names_taken(line)))
        if taken:
            yield f"{relative}:{number}: {line.strip()}"


def test_the_distribution_is_not_the_taken_name() -> None:
    assert _normalized(NAME) != TAKEN


def test_no_install_line_or_requirement_names_the_taken_distribution() -> None:
    found = [v for relative, text in _texts() for v in _violations(relative, text)]
    assert not found, (f"these install the other project named {TAKEN!r} on the package index; name {NAME!r} "
                       "instead (e.g. pip install '" + NAME + "[queue]'):\n" + "\n".join(found))


def test_the_project_requires_no_taken_distribution() -> None:
    groups = [PROJECT["dependencies"], *PROJECT["optional-dependencies"].values()]
    assert not [r for group in groups for r in group if _names_taken(r)]


def test_every_extra_an_install_line_names_exists() -> None:
    extras = set(PROJECT["optional-dependencies"])
    unknown = sorted({(relative, extra.strip()) for relative, text in _texts()
                      for group in _OWN_EXTRAS.findall(text) for extra in group.split(",")
                      if extra.strip() not in extras})
    assert not unknown, f"extras that pyproject.toml does not define (it has {sorted(extras)}): {unknown}"


@pytest.mark.parametrize(("line", "taken"), [
    ("pip install wxhook", True),
    ("pip install -U 'wxhook[queue]' redis", True),
    ('raise ImportError("needs taskiq: pip install \'wxhook[queue]\'") from None', True),
    ("wxhook>=0.1", True),
    ('"wxhook @ git+https://example.com/x.git"', True),
    ("pipx install WXHook", True),
    (f"pip install '{NAME}[queue]'", False),
    (f"pip install {NAME}  # wxhook is the import name", False),
    ("pip install -e '.[dev]' && wxhook run bot:bot", False),
    ("pip uninstall -y wxhook", False),
    ("from wxhook import Bot", False),
])
def test_the_check_tells_the_taken_name_from_the_rest(line: str, taken: bool) -> None:
    assert bool(list(_violations("README.md", line))) is taken
