import pytest

from fakes import WordModel

from samesense.faq import FaqBank

FAQ = [
    ("how do i reset my pin", "Settings > Security > Reset PIN.", ["i forgot my pin code"]),
    ("what are your opening hours", "Monday to Friday, 9 to 5.", ["when are you open"]),
    ("how do i close my account", "Write to support and we close it within a day.", []),
]


@pytest.fixture
def model():
    return WordModel()


@pytest.fixture
def bank(tmp_path, model):
    """A small bank of three entries over the fake model."""
    bank = FaqBank.open(tmp_path / "bank.faq", model)
    for question, answer, paraphrases in FAQ:
        bank.add(question, answer, paraphrases=paraphrases)
    yield bank
    bank.close()
