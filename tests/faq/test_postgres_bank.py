"""The bank's own tests again, on a PostgreSQL bank (the store's one copy of its SQL through the
PostgreSQL dialect): every test of test_bank.py, test_serve.py, test_unanswered.py and test_log_fixes.py
that takes the `bank` fixture, or the app over it, is collected here too, with `bank` in a new database of a
throwaway cluster (and the unanswered log in its tables there)."""

import inspect

import pytest

import test_bank
import test_log_fixes
import test_serve
import test_unanswered
from conftest import FAQ

from samesense.faq import FaqBank

# about files: SQLite's lock timeout, the bank's file and the files beside it
FILE_ONLY = {"test_a_bank_locked_by_another_process_past_the_write_timeout_is_a_503_with_retry_after",
             "test_healthz_shows_no_filesystem_paths", "test_healthz_follows_what_another_process_changed_in_the_bank",
             "test_a_file_that_is_not_an_unanswered_log_is_refused_and_left_alone",
             "test_a_read_only_server_records_questions_but_never_writes_the_bank"}

for _module in (test_bank, test_serve, test_unanswered, test_log_fixes):
    for _name, _test in vars(_module).items():
        if (_name.startswith("test_") and _name not in FILE_ONLY and callable(_test)
                and {"bank", "client", "admin"} & set(inspect.signature(_test).parameters)):
            globals()[_name] = _test
client = test_serve.client
log_path, log = test_unanswered.log_path, test_unanswered.log  # test_log_fixes' log is the same
admin = test_log_fixes.admin


@pytest.fixture
def bank(pg_url, model):
    """conftest's three-entry bank, in PostgreSQL."""
    bank = FaqBank.open(pg_url, model)
    for question, answer, paraphrases in FAQ:
        bank.add(question, answer, paraphrases=paraphrases)
    yield bank
    bank.close()
