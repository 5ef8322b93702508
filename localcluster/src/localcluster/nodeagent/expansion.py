"""Kubernetes `$(VAR)` expansion, as the kubelet applies it to env values, command and args.

A port of k8s.io/kubernetes third_party/forked/golang/expansion: `$(NAME)` becomes the
value of NAME when it is defined and stays as written otherwise, `$$` is an escaped
`$`, and any other `$` (including an unterminated `$(`) is kept literally.
"""

from __future__ import annotations

from collections.abc import Mapping

_OPERATOR = "$"
_OPENER = "("
_CLOSER = ")"


def expand(text: str, *contexts: Mapping[str, str]) -> str:
    """Expand `$(VAR)` references in `text`, looking VAR up in `contexts` in order."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == _OPERATOR and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_var, advance = _read_variable_name(text[cursor + 1 :])
            out.append(_lookup(read, contexts) if is_var else read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


def _read_variable_name(rest: str) -> tuple[str, bool, int]:
    """(text to emit or variable name, whether it is a variable, characters consumed)."""
    first = rest[0]
    if first == _OPERATOR:
        return _OPERATOR, False, 1
    if first == _OPENER:
        closer = rest.find(_CLOSER, 1)
        if closer != -1:
            return rest[1:closer], True, closer + 1
        return _OPERATOR + _OPENER, False, 1
    return _OPERATOR + first, False, 1


def _lookup(name: str, contexts: tuple[Mapping[str, str], ...]) -> str:
    for context in contexts:
        if name in context:
            return context[name]
    return f"$({name})"
