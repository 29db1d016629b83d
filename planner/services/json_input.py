"""JSON typed or uploaded by a user (the effect model's cases, a subsidy-rule file): parsed with bounded nesting.

Python's parser recurses once per level, so a document nested a few thousand deep raises RecursionError (a 500),
and one nested a few hundred deep parses but then exhausts the stack of whatever walks it (copying, checking,
storing). Neither format nests beyond a handful of levels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MAX_DEPTH = 32


class JsonInputError(ValueError):
    """The text is not JSON we accept; the message (Japanese) names where and why."""


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def load_json(text: str | bytes, where: str) -> Any:
    """The parsed document; :class:`JsonInputError` for malformed JSON or nesting deeper than :data:`MAX_DEPTH`."""
    too_deep = f"{where}: JSON の入れ子が深すぎます（{MAX_DEPTH} 段まで）"
    try:
        doc = json.loads(text)
    except RecursionError:
        raise JsonInputError(too_deep) from None
    except json.JSONDecodeError as e:
        raise JsonInputError(
            f"{where}: JSON の書き方に誤りがあります（{e.lineno}行 {e.colno}文字目: {e.msg}）"
        ) from None
    if depth(doc) > MAX_DEPTH:
        raise JsonInputError(too_deep)
    return doc
