"""YAML reading that remembers the line of every mapping key, so errors can name it."""
from __future__ import annotations

import yaml


class LinedDict(dict):
    """A mapping from YAML that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LinedList(list):
    line: int = 0


class _Loader(yaml.SafeLoader):
    """Safe loader (no Python tags) whose mappings and sequences carry line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LinedDict:
    loader.flatten_mapping(node)
    result = LinedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LinedList:
    result = LinedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse(text: str):
    """Parse YAML text into LinedDict/LinedList trees; raises yaml.YAMLError with a mark."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader


def line_of(node, key=None) -> int | None:
    if key is not None and isinstance(node, LinedDict):
        return node.line_of(key)
    return getattr(node, "line", None)
