"""Content YAML is parsed once, with libyaml's C parser where PyYAML has it, and says exactly
what the pure-Python parser said: the same data, the same lines, the same problems."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.badge_rules import load_badge_rules
from bot.content.check import check_content
from bot.content.entries import load_knowledge, read_entry
from bot.content.lesson_paths import load_paths
from bot.content.networks import load_networks
from bot.content.yaml_text import FAST_LOADER, PURE_LOADER, parse_yaml
from tests.conftest import ROOT

LOADERS = [PURE_LOADER, FAST_LOADER]

#: Front matter with what a parser can get subtly wrong: dates, nested lists, flow and block
#: styles, quoting, folded and literal text, non-ASCII text, anchors, aliases and a merge key.
TRICKY = """\
title: "Réinitialiser le mot de passe — VPN 🔐"
questions:
  - vpn says my password expired
  - 'it''s locked: what now?'
  - >
    folded text over
    two lines
tags: [it, vpn, 2026, yes]
reviewed: 2026-10-01
notes: |
  literal
    indented
nested:
  - [a, [b, c]]
  - {key: value, other: [1, 2.5, null, ~, true]}
  - when: 2026-03-04T10:00:00Z
defaults: &defaults
  size: 3
  colour: grün
merged:
  <<: *defaults
  size: 4
again: *defaults
"""

BROKEN = [
    "title: [a, b\n",
    "title: x\nquestions: [a, b:\n",
    "a: b\n  c: d: e\n",
    "a:\n\t- b\n",
    "title: 'unterminated\n",
    "a: *nope\n",
    "- a\nb: c\n",
    'a: "\\q"\n',
    "a: b\n---\nc: d\n",
    "title: ok\ntags:\n  - one\n - two\n",
]


def shape(node: yaml.Node | None) -> Any:
    """A node tree as comparable values: tag, each node's line and column, scalars' text."""
    if node is None:
        return None
    where = (node.tag, node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        return (*where, [(shape(key), shape(value)) for key, value in node.value])
    if isinstance(node, yaml.SequenceNode):
        return (*where, [shape(item) for item in node.value])
    return (*where, node.value)


def test_the_fast_loader_is_libyaml_where_pyyaml_has_it() -> None:
    assert FAST_LOADER is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_one_parse_gives_what_load_and_compose_gave(loader: Any) -> None:
    parsed = parse_yaml(TRICKY, loader)
    assert parsed.data == yaml.safe_load(TRICKY)
    assert shape(parsed.root) == shape(yaml.compose(TRICKY, Loader=yaml.SafeLoader))
    assert parsed.data["reviewed"] == date(2026, 10, 1)
    assert parsed.data["merged"] == {"size": 4, "colour": "grün"}
    assert parsed.data["title"] == "Réinitialiser le mot de passe — VPN 🔐"


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_an_empty_text_is_no_data(loader: Any) -> None:
    for text in ("", "# only a comment\n", "---\n"):
        parsed = parse_yaml(text, loader)
        assert parsed.data is None
        assert shape(parsed.root) == shape(yaml.compose(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("text", BROKEN)
def test_broken_yaml_is_told_as_the_pure_python_parser_tells_it(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    for loader in LOADERS:
        with pytest.raises(yaml.YAMLError) as raised:
            parse_yaml(text, loader)
        assert type(raised.value) is type(expected.value)
        assert str(raised.value) == str(expected.value)  # problem, its line and column


def test_a_knowledge_file_reads_the_same_with_either_parser(tmp_path: Path) -> None:
    path = tmp_path / "knowledge" / "reset-vpn.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "---\ntitle: Réinitialiser le VPN\nquestions:\n  - vpn locked?\n  - 'mot de passe'\n"
        "tags: [it, 2026]\nreviewed: 2026-10-01\nsize: 3\n---\nOpen the portal.\n",
        encoding="utf-8",
    )
    entry, problems = read_entry(path, None)
    assert entry is None
    assert [str(problem) for problem in problems] == [
        f"{path}:8: unknown field `size` (known: owner, questions, reviewed, tags, title, topic)"
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("size: 3\n", ""), encoding="utf-8")
    entry, problems = read_entry(path, None)
    assert problems == []
    assert entry is not None
    assert (entry.title, entry.questions, entry.tags, entry.reviewed) == (
        "Réinitialiser le VPN",
        ("vpn locked?", "mot de passe"),
        ("it", "2026"),
        date(2026, 10, 1),
    )


def test_content_is_never_parsed_by_pyyaml_s_two_pass_helpers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`yaml.compose` then `yaml.safe_load` parsed every file twice in pure Python; loading
    the shipped content must take neither (it goes through `parse_yaml`, once a file)."""

    def refused(*_: Any, **__: Any) -> Any:
        raise AssertionError("content YAML parsed outside bot.content.yaml_text")

    for name in ("compose", "compose_all", "load", "load_all", "safe_load", "safe_load_all"):
        monkeypatch.setattr(yaml, name, refused)
    content = ROOT / "content"
    assert load_knowledge(content).entries
    assert load_paths(content).paths
    assert load_networks(content).topics
    assert load_badge_rules(content).rules is not None
    assert check_content(content) == []
