"""schemathesis against the whole OpenAPI schema, as every role, with real data behind it
(tests/fuzz/runner.py, tests/fuzz/world.py), bounded for CI: a few derandomized examples per
operation and mode. The long run is bench/fuzz.py. And every API route is in the schema."""

from __future__ import annotations

import pytest

from tests.fuzz.runner import fuzz_role, in_process, load_schema
from tests.fuzz.urlconf import routes
from tests.fuzz.world import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CI_EXAMPLES = 2  # per operation and mode (positive, negative), drawn freely
CI_PINNED = 3  # combinations of real path values per operation, one example each
FUZZED_ROLES = ("anonymous", "citizen", "official", "trustee", "observer")


def test_every_api_route_is_in_the_openapi_schema(client) -> None:
    documented = set(client.get("/api/schema/?format=json").json()["paths"])
    api_routes = {r.openapi_path() for r in routes() if r.is_api and r.route not in ("api/schema/", "api/docs/")}
    assert api_routes - documented == set(), "API routes missing from the OpenAPI schema"
    assert documented - api_routes == set(), "schema paths without a route"


def test_no_role_finds_a_failure_in_any_operation(world: World) -> None:
    reports = []
    with in_process() as app:
        schema = load_schema(app)
        ops = [result.ok() for result in schema.get_all_operations()]
        for role in FUZZED_ROLES:
            reports.append(fuzz_role(schema, world, role, examples=CI_EXAMPLES, pinned=CI_PINNED))
    for report in reports:
        assert report.operations == len(ops)
        assert report.requests > report.operations
    failures = "\n".join(r.describe() for r in reports if r.failures)
    assert not failures, failures
    # real data got the requests past authentication and 404: each signed-in role reaches the
    # operations meant for it
    reached = {r.role: r.reached for r in reports}
    assert "GET /api/identity/me" in reached["citizen"]
    assert "GET /api/voting/official/elections" in reached["official"]
    assert "GET /api/voting/elections/{slug}/record" in reached["anonymous"]
    assert "POST /api/voting/elections/{slug}/ceremony/messages" in reached["trustee"]
