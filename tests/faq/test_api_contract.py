"""The API against its own /openapi.json, fuzzed by schemathesis: every response's status is one the
document declares for the operation, its body and content type match it, and none is a 5xx; data
the document forbids is refused with a 4xx; writes refuse requests without the token. Bounded and
derandomized, so the run is the same each time and takes seconds."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from samesense.faq.serve import create_app

TOKEN = "contract-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# Every check but positive_data_acceptance, which expects a 2xx for any text the document allows:
# text.py's rules (not blank once trimmed, no control characters) have no JSON Schema twin, so
# such a text is a 422 by design.
EXCLUDED = [positive_data_acceptance]
BOUNDED = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]  # data the document allows, and data it forbids


def fuzz(api, mode: GenerationMode, headers: dict) -> None:
    """Each operation of `api` (a schemathesis schema of an ASGI app), called with BOUNDED examples
    of `mode`, each response checked. (schemathesis.pytest.from_fixture, which would make a test an
    operation, fails on pytest 9: it sets Function._nodeid, which pytest 9 no longer has.)"""
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 8
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not takes_input(operation):
            continue  # nothing to get wrong

        @BOUNDED
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            case.call_and_validate(headers=dict(headers), excluded_checks=EXCLUDED)  # it adds to the dict

        call()


def takes_input(operation) -> bool:
    return any(len(ps) for ps in (operation.path_parameters, operation.query, operation.headers)) or bool(
        list(operation.body))


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("headers", [AUTH, {}], ids=["token", "no-token"])
def test_the_api_keeps_its_contract(bank, mode, headers):
    fuzz(schemathesis.openapi.from_asgi("/openapi.json", create_app(bank, TOKEN)), mode, headers)


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_a_read_only_api_keeps_its_contract(bank, mode):
    fuzz(schemathesis.openapi.from_asgi("/openapi.json", create_app(bank, None)), mode, AUTH)
