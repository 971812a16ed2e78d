"""Every regular expression of the package and of the data files runs in bounded time on pathological input.

A pattern such as `\\s*(?:a|b)*\\s*x` backtracks catastrophically (5.5 s on 500 spaces): each test below
collects the compiled patterns (module-level `re.Pattern`s, `LazyPattern`s of assistant/vocabulary.py, the
patterns of knowledge/language.yaml and knowledge/scope.yaml) and times `search` and `match` over 2,000-character
strings made of the material such patterns trip over: spaces, one CJK character repeated, digits, punctuation
and mixes of them.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

import assistant
from assistant.settings import PROJECT_ROOT
from assistant.vocabulary import LazyPattern, vocabulary

LENGTH = 2_000
LIMIT_S = 0.050
CUT_OFF_S = 1.0
# Modules that import heavy libraries (tokenizers, torch) to convert the model; they hold no question patterns.
SKIPPED_MODULES = {"assistant.e5_convert"}


def _repeat(unit: str) -> str:
    return (unit * (LENGTH // len(unit) + 1))[:LENGTH]


PATHOLOGICAL = {
    "spaces": _repeat(" "),
    "tabs and newlines": _repeat(" \t\n"),
    "ideographic spaces": _repeat("\u3000"),
    "one CJK character": _repeat("的"),
    "numeral characters": _repeat("一十"),
    "amount characters": _repeat("万元"),
    "article words": _repeat("第条"),
    "CJK and spaces": _repeat("补 "),
    "digits": _repeat("1"),
    "digits and spaces": _repeat("1 "),
    "decimal points": _repeat("1."),
    "thousands separators": _repeat("1,"),
    "digits and units": _repeat("12万"),
    "Chinese punctuation": _repeat("，。、？"),
    "ASCII punctuation": _repeat(",.;:!?()-%"),
    "letters": _repeat("a"),
    "words": _repeat("award "),
    "mixed": _repeat("最高 1,2.3万元，第十 条 a "),
}


def module_patterns() -> Iterator[tuple[str, Any]]:
    """(name, pattern) for every compiled pattern at module level in the package, also inside tuples,
    lists and dicts (amounts.py keeps its unit patterns in a table)."""
    for info in pkgutil.walk_packages(assistant.__path__, "assistant."):
        if info.name in SKIPPED_MODULES:
            continue
        module = importlib.import_module(info.name)
        for attr, value in vars(module).items():
            yield from _patterns_in(value, f"{info.name}.{attr}", depth=3)


def _patterns_in(value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    if isinstance(value, (re.Pattern, LazyPattern)):
        if not isinstance(value, re.Pattern) or isinstance(value.pattern, str):
            yield path, value
    elif depth and isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _patterns_in(item, f"{path}[{i}]", depth - 1)
    elif depth and isinstance(value, dict):
        for key, item in value.items():
            yield from _patterns_in(item, f"{path}[{key!r}]", depth - 1)


def data_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    """The patterns of knowledge/language.yaml (each on its own) and of knowledge/scope.yaml, as the app compiles them."""
    from assistant.answer import Scope

    for name, source in vocabulary().patterns.items():
        yield f"language.yaml:{name}", re.compile(source)
    scope = Scope.load(PROJECT_ROOT / "knowledge" / "scope.yaml")
    for group in ("injection", "off_topic", "tasks"):
        for i, compiled in enumerate(getattr(scope, group)):
            yield f"scope.yaml:{group}[{i}]", compiled
    for kind in scope.unstated:
        for i, compiled in enumerate(kind.patterns):
            yield f"scope.yaml:unstated.{kind.name}[{i}]", compiled


def all_patterns() -> list[tuple[str, Any]]:
    seen: set[int] = set()
    found = []
    for path, compiled in (*module_patterns(), *data_patterns()):
        if id(compiled) not in seen:
            seen.add(id(compiled))
            found.append((path, compiled))
    return found


class _Cut(Exception):
    """Raised by the interval timer: a catastrophic pattern would otherwise run for hours (re checks signals)."""


def _cut(signum: int, frame: Any) -> None:
    raise _Cut


def slowest_run(compiled: Any, text: str) -> float:
    """Seconds for `search` plus `match` at every 100th position, best of three tries (a busy machine must not
    fail a fast pattern); a run is cut off after CUT_OFF_S and counts as that long."""

    def once() -> float:
        start = time.perf_counter()
        previous = signal.signal(signal.SIGALRM, _cut)
        signal.setitimer(signal.ITIMER_REAL, CUT_OFF_S)
        try:
            compiled.search(text)
            for position in range(0, len(text), 100):
                compiled.match(text, position)
        except _Cut:
            return CUT_OFF_S
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return time.perf_counter() - start

    best = once()
    for _ in range(2):
        if best <= LIMIT_S or best >= CUT_OFF_S:
            break
        best = min(best, once())
    return best


PATTERNS = all_patterns()


def test_the_package_patterns_are_found():
    names = {path for path, _ in PATTERNS}
    assert "assistant.calc_inputs._PAYOUT_AFTER" in names
    assert "assistant.numerals._REFERENCE" in names
    assert any(name.startswith("assistant.amounts.") and "[" in name for name in names)  # inside a table
    assert any(name.startswith("scope.yaml:injection") for name in names)
    assert len(PATTERNS) > 150


def test_the_payout_pattern_no_longer_backtracks_on_spaces():
    from assistant.calc_inputs import _PAYOUT_AFTER

    assert slowest_run(_PAYOUT_AFTER, " " * 500 + "x") < LIMIT_S


@pytest.mark.parametrize("kind", list(PATHOLOGICAL))
def test_every_pattern_runs_within_50_ms_on_pathological_input(kind):
    text = PATHOLOGICAL[kind]
    slow = {}
    for path, compiled in PATTERNS:
        elapsed = slowest_run(compiled, text)
        if elapsed > LIMIT_S:
            slow[path] = round(elapsed * 1000)
    assert slow == {}, f"patterns over {LIMIT_S * 1000:.0f} ms on {kind!r} (ms)"
