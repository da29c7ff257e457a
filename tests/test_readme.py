"""The README's layout section names what is in the tree, and only that."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "storefront"
NOT_LISTED = {"__init__.py", "__pycache__", "py.typed"}


def _layout() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def test_the_layout_names_every_module_and_package() -> None:
    named = set(re.findall(r"[\w.]+/?", _layout()))
    entries = {f"{p.name}/" if p.is_dir() else p.name for p in PACKAGE.iterdir() if p.name not in NOT_LISTED}

    assert sorted(entries - named) == []


def test_the_layout_names_nothing_that_is_gone() -> None:
    modules = set(re.findall(r"\b(\w+\.py)\b", _layout()))
    present = {p.name for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.glob("*/*.py")}

    assert sorted(modules - present) == []


def test_the_layout_names_every_doc() -> None:
    docs = {p.name for p in (ROOT / "docs").glob("*.md")}

    assert sorted(name for name in docs if name not in _layout()) == []
