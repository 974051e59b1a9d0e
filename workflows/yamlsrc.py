"""YAML reading that remembers the line of every mapping key, so errors can name it."""
from __future__ import annotations

import re

import yaml


class LinedDict(dict):
    """A mapping from YAML that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LinedList(list):
    line: int = 0


MAX_BYTES = 64 * 1024  # a workflow file; the shipped one is 8 KB, and parsing costs about 10 ms per KB
MAX_DEPTH = 32  # nesting of mappings and lists; PyYAML composes and constructs by recursion
MAX_NODES = 50_000  # nodes once aliases are expanded: a few anchors can otherwise stand for billions


try:  # libyaml scans and parses about ten times faster than PyYAML's Python parser; composing stays in Python
    from yaml._yaml import CParser as _Events  # so that the bounds below see every node

    class _SafeBase(yaml.composer.Composer, _Events, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, stream):
            _Events.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
except ImportError:  # PyYAML built without libyaml
    _SafeBase = yaml.SafeLoader


class _Loader(_SafeBase):
    """Safe loader (no Python tags) whose mappings and sequences carry line numbers, with bounded nesting."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = []  # (mark, node) of every alias, to name the line of the one that expands most

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._aliases.append((event.start_mark, self.anchors.get(event.anchor)))
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node):
        if self._aliases:
            sizes = _expanded_sizes(node)
            if sizes[id(node)] > MAX_NODES:
                mark, _ = max(self._aliases, key=lambda alias: sizes.get(id(alias[1]), 0))
                raise yaml.composer.ComposerError(None, None, f"aliases expand to more than {MAX_NODES} nodes",
                                                  mark)
        return super().construct_document(node)


def _expanded_sizes(root) -> dict[int, int]:
    """How many nodes the document has with every alias written out (each shared node is sized once)."""
    sizes: dict[int, int] = {}
    todo = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        if id(node) in sizes:
            continue
        children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else (
            node.value if isinstance(node, yaml.SequenceNode) else [])
        if children_done:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_NODES + 1)
        else:
            todo.append((node, True))
            todo.extend((c, False) for c in children if id(c) not in sizes)
    return sizes


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


class TooLarge(yaml.YAMLError):
    """The text is longer than MAX_BYTES."""


class TooDeep(yaml.MarkedYAMLError):
    """Flow collections ([...], {...}) nested past MAX_DEPTH."""


# What matters for flow nesting: brackets, and the starts of quoted scalars and comments (inside which brackets do
# not count). A quote or # starts one only after a space, a line start or a flow indicator, as in YAML.
_FLOW = re.compile(r"""[\[\]{}\n]|(?:(?<=[\s\[\]{},:])|^)(?:"(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?|\#[^\n]*)""",
                   re.MULTILINE)


def _check_flow_depth(text: str) -> None:
    """Refuse deep [[[...]]] before PyYAML sees it: its scanner looks ahead up to 1,024 characters for a possible
    key at every open bracket, which costs about a second for a line of brackets even when composing stops early."""
    depth, line = 0, 1
    for match in _FLOW.finditer(text):
        piece = match.group()
        if piece == "\n":
            line += 1
        elif piece in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                mark = yaml.Mark("<text>", match.start(), line - 1, 0, None, None)
                raise TooDeep(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        elif piece in "]}":
            depth = max(depth - 1, 0)
        else:
            line += piece.count("\n")  # a quoted scalar may run over several lines


def parse(text: str):
    """Parse YAML text into LinedDict/LinedList trees; raises yaml.YAMLError (with a mark where it can)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise TooLarge(f"the text is {size} bytes; a workflow file may have at most {MAX_BYTES}")
    _check_flow_depth(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader constructs with SafeConstructor only


def error_line(exc: yaml.YAMLError, text: str) -> int | None:
    """The 1-based line a parse error points at; an error at the end of the text (an unclosed bracket, say) names
    its last written line rather than the blank end that libyaml points at."""
    mark = getattr(exc, "problem_mark", None)
    return min(mark.line + 1, text.rstrip().count("\n") + 1) if mark else None


def line_of(node, key=None) -> int | None:
    if key is not None and isinstance(node, LinedDict):
        return node.line_of(key)
    return getattr(node, "line", None)
