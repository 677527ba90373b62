"""Content YAML parsed once per text, with the fastest loader installed.

Every content kind needs both the data (to validate) and the node tree (each key's line, for
problems with file and line). Composing and then loading the same text parsed it twice, with
PyYAML's pure-Python parser both times; at 10,000 knowledge entries that was most of Eddy's
start. Here one parse gives both, through libyaml's C parser (`yaml.CSafeLoader`, about 12×
faster per file) wherever PyYAML was built with it, and the pure-Python `SafeLoader`
elsewhere. Both construct with PyYAML's own `SafeConstructor` and resolver, so the data
(dates, numbers, booleans) is the same whichever parses.

A text the C parser refuses is parsed again by the pure-Python one, whose error is the one
raised: its wording names what it found ("expected ',' or ']', but got ':'" where libyaml
says "did not find expected ',' or ']'"), and authors read it with the line. Broken files are
rare, so the second parse costs nothing that matters.

    parsed = parse_yaml(text)       # raises yaml.YAMLError
    parsed.data, parsed.root        # what yaml.safe_load and yaml.compose gave
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

#: The loader content is parsed with: libyaml's when PyYAML has it, else pure Python.
FAST_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = (
    yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
)
#: The loader whose errors are reported (and which parses when libyaml is not there).
PURE_LOADER = yaml.SafeLoader


@dataclass(frozen=True)
class ParsedYaml:
    """One YAML document: its data (None for an empty text) and its node tree (each node's
    `start_mark.line` is 0-based), as `yaml.safe_load` and `yaml.compose` give them."""

    data: Any
    root: yaml.Node | None


def parse_yaml(
    text: str, loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = FAST_LOADER
) -> ParsedYaml:
    """Parse `text` once with `loader` (the fastest installed by default). Raises
    `yaml.YAMLError` as the pure-Python loader words it, with its line."""
    try:
        return _parse_with(loader, text)
    except yaml.YAMLError:
        if loader is PURE_LOADER:
            raise
        return _parse_with(PURE_LOADER, text)  # its error, in its words; or its data


def load_yaml(text: str) -> Any:
    """The data of `text` alone (`yaml.safe_load`, with the fastest loader installed)."""
    return parse_yaml(text).data


def _parse_with(
    loader_class: type[yaml.SafeLoader] | type[yaml.CSafeLoader], text: str
) -> ParsedYaml:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return ParsedYaml(None, None)
        # Constructing a mapping with a merge key (`<<: *defaults`) rewrites its node in place;
        # problems must point at the lines as written, so such a tree is kept as composed.
        root = copy.deepcopy(node) if "<<" in text else node
        return ParsedYaml(loader.construct_document(node), root)
    finally:
        loader.dispose()
