"""``$filter`` text → our typed AST.

The grammar is odata-query's (its lexer and LALR parser, pinned at 0.10.0). Two CSC forms it
does not take are rewritten first by a pass that knows where quoted strings are, so nothing
inside a string is ever touched: enum literals (``OData.CSC.ProductionType'x'`` → ``'x'``) and
one-element lists (``in ('a')`` → ``in ('a','a')``, only for an item without parentheses, so
the text at most doubles once). The tree it returns is then converted by
:mod:`prip_ray.odata.convert`, which checks every name and literal against the whitelist
and bounds the tree's depth and size. Every failure is an InvalidQuery naming the offending
token, or saying the filter is too complex.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from odata_query.exceptions import ODataException, ParsingException, TokenizingException
from odata_query.grammar import ODataLexer, ODataParser

from prip_ray.errors import InvalidQuery
from prip_ray.odata.ast import Node
from prip_ray.odata.convert import Converter, too_complex
from prip_ray.odata.fields import FIELDS

MAX_LENGTH = 8000
KEPT_LENGTH = 2000  # parsed filters up to this length are kept

_ENUM = re.compile(r"(?:OData\.CSC\.)?ProductionType'", re.IGNORECASE)
_IN = re.compile(r"\bin\s*\(", re.IGNORECASE)


def parse_filter(text: str, entity_set: str = "Products") -> Node:
    """The AST of ``text``, its names checked against the whitelist of ``entity_set``.
    Clients repeat their filters (polling for new products, paging),
    and the tree is immutable, so parsed filters are kept: parsing is a third of the replica's
    work for a one-page search. Only short ones are kept (a 2,000-character filter makes at
    most ~40 KB of tree, an 8,000-character one ~150 KB: a client cycling through long ones
    would grow the replica by 150 MB). Failures are not kept; they raise every time."""
    return _kept(text, entity_set) if len(text) <= KEPT_LENGTH else _parse(text, entity_set)


def _parse(text: str, entity_set: str) -> Node:
    if len(text) > MAX_LENGTH:
        raise InvalidQuery(f"$filter is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise InvalidQuery("$filter is empty")
    if "\x00" in text:  # no product has one, and SQLite would cut the pattern there
        raise InvalidQuery("$filter contains a NUL character", position=text.index("\x00"))
    try:
        return Converter(FIELDS[entity_set]).convert(_syntax_tree(_rewrite(text), text))
    except RecursionError:  # the limits should come first; never let a tree take the replica
        raise too_complex("it nests too deeply") from None


_kept = lru_cache(maxsize=1024)(_parse)


def _syntax_tree(text: str, original: str) -> Any:
    try:
        return ODataParser().parse(ODataLexer().tokenize(text))
    except TokenizingException as e:
        raise _syntax_error(e.token, original) from None
    except ParsingException as e:
        raise _syntax_error(e.token, original) from None
    except ODataException as e:
        raise InvalidQuery(f"$filter: {e}") from None
    except (ValueError, TypeError, IndexError, RecursionError) as e:
        raise InvalidQuery(f"$filter cannot be parsed: {e}") from None


def _syntax_error(token: Any, original: str) -> InvalidQuery:
    if token is None or (token.type == "WS" and not original[token.index :].strip()):
        return InvalidQuery("$filter ends unexpectedly", position=len(original))
    value = _token_text(token.value)
    if token.type == "WS":  # sly reports the blank before the real culprit: name that
        value = original[token.index :].split()[0]
    return InvalidQuery(
        f"$filter: unexpected {value!r} at position {token.index}",
        token=value,
        position=token.index,
    )


def _token_text(value: Any) -> str:
    for attribute in ("val", "name"):
        if hasattr(value, attribute):
            return str(getattr(value, attribute))
    return str(value)


def _rewrite(text: str) -> str:
    """Apply the two CSC rewrites outside quoted strings."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "'":
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
            continue
        enum = _ENUM.match(text, i)
        if enum and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "._")):
            i = enum.end() - 1  # keep the quote: the value becomes a plain string literal
            continue
        in_list = _IN.match(text, i)
        if in_list and (i == 0 or not text[i - 1].isalnum()):
            close = _closing_paren(text, in_list.end())
            if close is not None and _is_single_item(text, in_list.end(), close):
                # A list item is a literal: one with parentheses (a nested in, a call) is
                # left to the parser to refuse, and copying it would double it per level.
                item = text[in_list.end() : close]
                out.append(f"{text[i : in_list.end()]}{item},{item})")
                i = close + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """Index just after the string literal opening at ``start`` (``''`` is an escaped quote)."""
    i = start + 1
    while i < len(text):
        if text[i] == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)  # unterminated: the lexer reports it


def _closing_paren(text: str, start: int) -> int | None:
    depth, i = 1, start
    while i < len(text):
        if text[i] == "'":
            i = _string_end(text, i)
            continue
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
        i += 1
    return None


def _is_single_item(text: str, start: int, end: int) -> bool:
    """Between ``start`` and ``end``: no comma and no parenthesis outside quoted strings."""
    i = start
    while i < end:
        if text[i] == "'":
            i = _string_end(text, i)
            continue
        if text[i] in ",()":
            return False
        i += 1
    return True
