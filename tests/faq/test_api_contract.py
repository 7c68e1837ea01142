"""The API against its own /openapi.json, fuzzed by schemathesis with every check (as `st run
--checks all`): every response's status is one the document declares for the operation, its body,
headers and content type match it, and none is a 5xx; data the document forbids is refused with a
4xx, data it allows is accepted; writes refuse requests without the token; a method a path does not
take is a 405 naming the ones it does. The coverage phase (bounds, wrong types, methods, headers
left out), then bounded, derandomized fuzzing: the run is the same each time and takes seconds."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from samesense.faq.serve import create_app
from samesense.faq.unanswered import UnansweredLog

TOKEN = "contract-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# Every check (--checks all): text.py's rules are declared as a pattern (schemas.TEXT_PATTERN), so
# positive_data_acceptance holds too; a question another entry holds is a 409, which it allows.
EXCLUDED = []
BOUNDED = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]  # data the document allows, and data it forbids
# A refusal of negative data: schemathesis's own list, and 413, the body guard's answer to a body past
# --max-body-bytes (a negative case may be long: 20,000 characters of "\u00fc" are 120 kB of JSON).
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


def contract(app):
    """The app's OpenAPI document, as schemathesis calls and checks it."""
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def fuzz(api, mode: GenerationMode, headers: dict) -> None:
    """Each operation of `api` (a schemathesis schema of an ASGI app), called with BOUNDED examples
    of `mode`, each response checked. (schemathesis.pytest.from_fixture, which would make a test an
    operation, fails on pytest 9: it sets Function._nodeid, which pytest 9 no longer has.)"""
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 15
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not takes_input(operation):
            continue  # nothing to get wrong

        @BOUNDED
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            given = {} if breaks_the_credentials(case) else dict(headers)  # call_and_validate adds to the dict
            case.call_and_validate(headers=given, excluded_checks=EXCLUDED)

        call()
    for operation in operations:
        for case in coverage_cases(api, operation, mode):
            sent = {} if breaks_the_credentials(case) else dict(headers)
            case.call_and_validate(headers=sent, excluded_checks=EXCLUDED)


def coverage_cases(api, operation, mode: GenerationMode):
    """schemathesis's coverage phase (what `st run` does before fuzzing): each bound, each type a
    parameter must not have, a method the path does not take (405 with Allow), a required header
    left out. Deterministic: no randomness, a few hundred cases over the API."""
    return CoverageGenerator(operation=operation, generation_modes=[mode], auth_storage=None, override=Override(),
                             generation_config=api.config.generation_for(operation=operation, phase="coverage"),
                             feedback=FeedbackSources())


def breaks_the_credentials(case) -> bool:
    """Whether a negative case's wrong data is its Authorization header (left out, or not a bearer
    token): then the case's own header is sent, not the test's good one, which would make the
    wrong request right (a GET /unanswered with nothing else wrong would rightly be a 200)."""
    phase = getattr(case.meta, "phase", None)
    mutations = getattr(getattr(phase, "data", None), "mutations", None) or ()
    return any(m.parameter == "Authorization" for m in mutations)


def takes_input(operation) -> bool:
    return any(len(ps) for ps in (operation.path_parameters, operation.query, operation.headers)) or bool(
        list(operation.body))


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("headers", [AUTH, {}], ids=["token", "no-token"])
def test_the_api_keeps_its_contract(bank, tmp_path, mode, headers):
    with UnansweredLog(tmp_path / "bank.faq.unanswered") as unanswered:
        unanswered.record(bank.ask("zebra giraffe"), margin=0.02)  # something for GET /unanswered to list
        fuzz(contract(create_app(bank, TOKEN, unanswered=unanswered)), mode, headers)


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_a_read_only_api_keeps_its_contract(bank, mode):
    fuzz(contract(create_app(bank, None)), mode, AUTH)


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_a_read_only_api_with_a_token_keeps_its_contract(bank, mode):
    """--read-only with a token: writes refused (403), /auth and /unanswered open to the token."""
    fuzz(contract(create_app(bank, TOKEN, read_only=True)), mode, AUTH)
