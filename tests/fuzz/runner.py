"""schemathesis against the whole OpenAPI schema, in-process (WSGI), as one role at a time.

Each operation gets ``examples`` positive cases (schema-valid) and as many negative ones
(schema-violating), half of them aimed at the world's real objects (path parameters pinned to the
seeded elections, logs, claims, ballots...) so they get past 404, the rest drawn freely. Every
response is checked with schemathesis's own checks:

- not_a_server_error: no 5xx;
- status_code_conformance: every status code is documented;
- response_schema_conformance: every response matches its documented schema;
- positive_data_acceptance: no schema-valid request refused (2xx, 401, 403, 404, 409 are fine);
- negative_data_rejection: no schema-violating request accepted.

Generation is derandomized from ``seed`` (hypothesis), so a run is repeatable.
Used by tests/fuzz/test_fuzz_api.py (few examples, CI) and bench/fuzz.py (many).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from tests.fuzz.world import World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]
SCHEMA_PATH = "/api/schema/?format=json"
MAX_PINNED = 6  # combinations of real path values per operation


@dataclass
class RoleReport:
    role: str
    operations: int = 0
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failures: dict[tuple[str, str, int], str] = field(default_factory=dict)
    reached: set[str] = field(default_factory=set)  # operations answered past 401/403/404

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "requests": self.requests,
            "failures": len(self.failures),
            "reached": len(self.reached),
            "statuses": dict(sorted(self.statuses.items())),
        }

    def describe(self) -> str:
        return "\n".join(
            f"[{self.role}] {op} {code} (status {status}): {message}"
            for (op, code, status), message in sorted(self.failures.items())
        )


@contextmanager
def in_process() -> Iterator[WSGIHandler]:
    """The app in this process, on the caller's connection: Django would close it around every
    request otherwise (as the test client, voting.simulation.in_process_transport)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# A schema-valid request may still be refused by a rule no JSON Schema can state (a signature, a
# proof, one field against another, the object's state): the API answers those 409 or 422, never
# 400, which means "this request does not match the schema" (docs/operations.md § API schema).
# schemathesis's default list plus 422; 5xx is never accepted (not_a_server_error).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]  # never 5xx
# Each role's credentials (session cookie, CSRF token, Bearer) are real and sent as they are:
# generation leaves the schema's security parameters alone.
# A schema-violating request may be refused for its size before it is read: 413 is a refusal too.
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = {
    "checks": {
        "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
        "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
    },
    "generation": {"with-security-parameters": False},
}


def load_schema(app: WSGIHandler) -> Any:
    return schemathesis.openapi.from_wsgi(
        SCHEMA_PATH, app, config=schemathesis.Config.from_dict(CONFIG)
    )


def _pinned(operation: Any, world: World, limit: int) -> list[dict[str, Any]]:
    names = [p.name for p in operation.path_parameters]
    if not names or any(not world.values.get(name) for name in names):
        return []
    combos = itertools.product(*(world.values[name] for name in names))
    return [dict(zip(names, combo, strict=True)) for combo in itertools.islice(combos, limit)]


def _has_input_beyond_path(operation: Any) -> bool:
    return bool(
        operation.query or operation.headers or operation.cookies or operation.body
    )


def _runs(
    operation: Any, world: World, mode: GenerationMode, examples: int, pinned: int
) -> list[tuple[Any, int]]:
    """(strategy, examples) pairs: free draws, and draws on each combination of real path values
    (half as many each), which get past 404 to the code behind."""
    runs = [(operation.as_strategy(generation_mode=mode), examples)]
    if mode == GenerationMode.NEGATIVE and not _has_input_beyond_path(operation):
        return runs  # only the path can be wrong: real (pinned) values cannot be negated
    per_combo = max(1, examples // 2)
    runs += [
        (operation.as_strategy(generation_mode=mode, path_parameters=values), per_combo)
        for values in _pinned(operation, world, pinned)
    ]
    return runs


def _short(response: Any) -> str:
    text = response.text if hasattr(response, "text") else ""
    return text[:160].replace("\n", " ")


def fuzz_role(
    schema: Any, world: World, role: str, *, examples: int, seed: int = 14, pinned: int = MAX_PINNED
) -> RoleReport:
    report = RoleReport(role)
    headers, cookies = world.headers(role), world.cookies(role)
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for strategy, n in _runs(operation, world, mode, examples, pinned):
                _run(report, operation, strategy, n, headers, cookies, seed)
    return report


def _run(
    report: RoleReport, operation: Any, strategy: Any, examples: int, headers: dict[str, str],
    cookies: dict[str, str], seed: int,
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=headers, cookies=cookies)
        report.requests += 1
        status = response.status_code
        report.statuses[str(status)] = report.statuses.get(str(status), 0) + 1
        if status not in (401, 403, 404):
            report.reached.add(operation.label)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                _record(report, operation.label, failure, status, case, response)
        except Failure as failure:
            _record(report, operation.label, failure, status, case, response)

    run._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    try:
        run()
    except Unsatisfiable:  # nothing to negate (no parameters, no body): positive cases only
        return


def _record(
    report: RoleReport, label: str, failure: Failure, status: int, case: Any, response: Any
) -> None:
    key = (label, f"{failure.code} {failure.title}", status)
    if key not in report.failures:
        sent = {
            "path": case.formatted_path if hasattr(case, "formatted_path") else case.path,
            "query": case.query,
            "body": case.body if not isinstance(case.body, bytes) else "<bytes>",
        }
        report.failures[key] = (
            f"{failure.message.splitlines()[0] if failure.message else ''} | sent "
            f"{json.dumps(sent, default=str)[:300]} | got {_short(response)}"
        )
