"""Election manifest: contests, their question types, and the one rule every type reduces to.

Every question type becomes the same cryptographic shape, so one verifier handles all:
each option's value lies in [0, max_value] (a range proof per selection) and the weighted sum
Σ weight_i·value_i lies in [limit_min, limit_max] (one limit proof per contest).

| type            | max_value | weight   | limit                       |
|-----------------|-----------|----------|-----------------------------|
| yes_no_abstain  | 1         | 1        | [1, 1] over yes/no/abstain  |
| one_of_n        | 1         | 1        | [0 if allow_blank else 1, 1]|
| approval        | 1         | 1        | [min_selections, max_selections] |
| score           | max_score | 1        | [0, max_total]              |
| budget          | 1         | cost_i   | [0, budget]                 |
"""

# API stable: other modules build on these names

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from .errors import BallotError
from .proofs import MAX_RANGE_BRANCHES

YES_NO_ABSTAIN_IDS = ("yes", "no", "abstain")  # the option ids of a yes/no/abstain question
QUESTION_TYPES = ("yes_no_abstain", "one_of_n", "approval", "score", "budget")
MAX_OPTIONS = 256
MAX_SCORE = 100
MAX_CONTESTS = 64
ID_MAX = 128
TITLE_MAX_BYTES = 1024

# Text rules (docs/protocol.md §6.1) are fixed character sets, never "printable" or any other
# Unicode property whose extent changes with the Unicode version of the runtime: Python 3.11
# and Node 20 disagree on ~15,000 code points. Identifiers are plain ASCII; titles are any
# Unicode scalar values except the C0/C1 controls (Cc, a set fixed since Unicode 1.1).
_IDENTIFIER = re.compile(r"[A-Za-z0-9._:-]{1,%d}" % ID_MAX)  # noqa: UP031 - a regex, not text
_NOT_IN_TITLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def is_identifier(value: object) -> bool:
    """1..128 characters of ``[A-Za-z0-9._:-]`` (election, contest, option and ballot ids)."""
    return isinstance(value, str) and _IDENTIFIER.fullmatch(value) is not None


def is_title(value: object) -> bool:
    """Unicode scalar values except controls (Cc), at most 1024 bytes of UTF-8."""
    return (
        isinstance(value, str)
        and _NOT_IN_TITLE.search(value) is None
        and len(value.encode("utf-8")) <= TITLE_MAX_BYTES
    )


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise BallotError(message)


def _int(obj: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = obj.get(key)
    _require(
        isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi,
        f"{key} must be an integer in [{lo}, {hi}]",
    )
    return int(value)  # type: ignore[arg-type]


def _ident(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    _require(is_identifier(value), f"{key} must be 1..{ID_MAX} characters of [A-Za-z0-9._:-]")
    return str(value)


def _title(obj: Mapping[str, Any], what: str) -> str:
    value = obj.get("title")
    _require(
        is_title(value),
        f"{what} title must be a string of at most {TITLE_MAX_BYTES} UTF-8 bytes "
        "without control characters or lone surrogates",
    )
    return str(value)


def _allowed_keys(obj: Any, required: set[str], optional: set[str], what: str) -> Mapping[str, Any]:
    _require(isinstance(obj, Mapping), f"{what} must be an object")
    keys = set(obj)
    _require(required <= keys, f"{what} is missing {sorted(required - keys)}")
    unknown = sorted(repr(k) for k in keys - required - optional)  # keys may not even be str
    _require(not unknown, f"{what} has unknown keys [{', '.join(unknown)}]")
    return obj


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    title: str
    cost: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.cost is not None:
            out["cost"] = self.cost
        return out


@dataclass(frozen=True, slots=True)
class Contest:
    """One question. ``max_value``, ``weights`` and ``limit`` are the derived proof rule."""

    id: str
    type: str
    title: str
    options: tuple[Option, ...]
    params: tuple[tuple[str, int], ...]

    def param(self, name: str) -> int:
        return dict(self.params)[name]

    @property
    def max_value(self) -> int:
        return self.param("max_score") if self.type == "score" else 1

    @property
    def weights(self) -> tuple[int, ...]:
        if self.type == "budget":
            return tuple(int(o.cost or 0) for o in self.options)
        return tuple(1 for _ in self.options)

    @property
    def limit(self) -> tuple[int, int]:
        if self.type == "yes_no_abstain":
            return (1, 1)
        if self.type == "one_of_n":
            return (0 if self.param("allow_blank") else 1, 1)
        if self.type == "approval":
            return (self.param("min_selections"), self.param("max_selections"))
        if self.type == "score":
            return (0, self.param("max_total"))
        return (0, self.param("budget"))

    @property
    def uniform_weights(self) -> bool:
        return all(w == 1 for w in self.weights)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "title": self.title,
            "options": [o.to_json() for o in self.options],
        }
        out.update(dict(self.params))
        if self.type == "one_of_n":
            out["allow_blank"] = bool(self.param("allow_blank"))
        return out

    @classmethod
    def from_json(cls, obj: Any) -> Contest:
        kind = obj.get("type") if isinstance(obj, Mapping) else None
        _require(kind in QUESTION_TYPES, f"contest type must be one of {QUESTION_TYPES}")
        extra = {
            "yes_no_abstain": set(),
            "one_of_n": {"allow_blank"},
            "approval": {"min_selections", "max_selections"},
            "score": {"max_score", "max_total"},
            "budget": {"budget"},
        }[kind]
        o = _allowed_keys(obj, {"id", "type", "title", "options"} | extra, set(), "contest")
        contest_id = _ident(o, "id")
        contest_title = _title(o, "contest")
        raw_options = o["options"]
        _require(
            isinstance(raw_options, list) and 1 <= len(raw_options) <= MAX_OPTIONS,
            f"a contest has 1..{MAX_OPTIONS} options",
        )
        options = []
        for raw in raw_options:
            opt_keys = {"cost"} if kind == "budget" else set()
            ro = _allowed_keys(raw, {"id", "title"} | opt_keys, set(), "option")
            option_title = _title(ro, "option")
            cost = _int(ro, "cost", 0, MAX_RANGE_BRANCHES - 1) if kind == "budget" else None
            options.append(Option(_ident(ro, "id"), option_title, cost))
        ids = [opt.id for opt in options]
        _require(len(set(ids)) == len(ids), "option ids must be unique within a contest")
        n = len(options)
        params: dict[str, int] = {}
        if kind == "yes_no_abstain":
            _require(
                tuple(ids) == YES_NO_ABSTAIN_IDS,
                "yes_no_abstain has exactly the options yes, no, abstain (those ids, in that order)",
            )
        elif kind == "one_of_n":
            _require(isinstance(o["allow_blank"], bool), "allow_blank must be a boolean")
            params["allow_blank"] = int(o["allow_blank"])
        elif kind == "approval":
            params["min_selections"] = _int(o, "min_selections", 0, n)
            params["max_selections"] = _int(o, "max_selections", params["min_selections"], n)
        elif kind == "score":
            params["max_score"] = _int(o, "max_score", 1, MAX_SCORE)
            params["max_total"] = _int(
                o, "max_total", 1, min(params["max_score"] * n, MAX_RANGE_BRANCHES - 1)
            )
        else:
            params["budget"] = _int(o, "budget", 1, MAX_RANGE_BRANCHES - 1)
            _require(all((opt.cost or 0) >= 1 for opt in options), "every budget option costs >= 1")
        return cls(contest_id, kind, contest_title, tuple(options), tuple(sorted(params.items())))


@dataclass(frozen=True, slots=True)
class Manifest:
    election_id: str
    title: str
    contests: tuple[Contest, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "title": self.title,
            "contests": [c.to_json() for c in self.contests],
        }

    def canonical_bytes(self) -> bytes:
        """RFC 8785 canonical JSON: the input of the manifest hash H_M."""
        return rfc8785.dumps(self.to_json())

    def contest(self, contest_id: str) -> Contest:
        for c in self.contests:
            if c.id == contest_id:
                return c
        raise BallotError(f"unknown contest {contest_id!r}")

    @classmethod
    def from_json(cls, obj: Any) -> Manifest:
        o = _allowed_keys(obj, {"election_id", "title", "contests"}, set(), "manifest")
        title = _title(o, "manifest")
        raw = o["contests"]
        _require(
            isinstance(raw, list) and 1 <= len(raw) <= MAX_CONTESTS,
            f"a manifest has 1..{MAX_CONTESTS} contests",
        )
        contests = tuple(Contest.from_json(c) for c in raw)
        ids = [c.id for c in contests]
        _require(len(set(ids)) == len(ids), "contest ids must be unique")
        return cls(_ident(o, "election_id"), title, contests)
