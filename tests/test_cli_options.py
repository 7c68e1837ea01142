"""Flags derived from a config of dataclass sections (samesense/cli/options.py), on a toy config."""

from dataclasses import dataclass

import pytest

from samesense.cli.options import add_sections, given_values
from samesense.cli.parsing import Parser
from samesense.bounds import setting

asked_for_colours = []


def colours():
    asked_for_colours.append(1)
    return ["red", "blue"]


@dataclass
class Shape:
    """shape: how big it is"""

    width: int = setting(3, "columns", at_least=1)
    ratio: float = setting(0.5, "a share", between=(0.0, 1.0))
    names: list[str] = setting(help="some names", factory=list, metavar="NAME")
    label: str | None = setting(None, "a label")


@dataclass
class Look:
    """look"""

    colour: str = setting("red", "paint", choices=colours)
    shiny: bool = setting(True, "polished")
    bold: bool = setting(False, "heavy")
    dense_rows: int = setting(2, "rows", flag="rows")
    secret: int = setting(7, "not on the command line", cli=False)


SECTIONS = {"shape": Shape, "look": Look}


def toy_parser() -> Parser:
    parser = Parser(prog="toy")
    add_sections(parser, SECTIONS)
    return parser


def given(*argv: str) -> dict:
    return given_values(toy_parser().parse_args(argv), *SECTIONS.values())


def test_only_the_flags_given_come_back():
    assert given() == {}
    assert given("--width", "5", "--names", "a", "b", "--label", "x", "--no-shiny", "--bold", "--rows", "4") == {
        "width": 5, "names": ["a", "b"], "label": "x", "shiny": False, "bold": True, "dense_rows": 4}
    assert given("--ratio", "0.25") == {"ratio": 0.25}


def test_help_has_a_group_per_section_and_the_defaults():
    text = toy_parser().format_help()
    assert "shape: how big it is:" in text and "\nlook:" in text
    assert "--width WIDTH" in text and "(default: 3)" in text and "--names NAME [NAME ...]" in text
    assert "--colour {red,blue}" in text and "--rows ROWS" in text
    assert "--no-shiny" in text and "--shiny" not in text.replace("--no-shiny", "")
    assert "--bold" in text and "--no-bold" not in text
    assert "--secret" not in text


@pytest.mark.parametrize("argv, message", [
    (["--width", "0"], "argument --width: must be at least 1, got 0"),
    (["--ratio", "1"], "argument --ratio: must be between 0 and 1, got 1.0"),
    (["--width", "wide"], "argument --width: invalid int value: 'wide'"),
    (["--colour", "green"], "argument --colour: invalid choice: 'green'"),
])
def test_a_bad_value_is_one_line_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        toy_parser().parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"samesense: error: {message}") and err.count("\n") == 1


def test_choices_are_read_when_the_parser_is_built():
    asked_for_colours.clear()
    toy_parser()
    assert asked_for_colours == [1]


def test_an_annotation_without_a_flag_type_is_refused():
    @dataclass
    class Odd:
        """odd"""

        pairs: dict = setting(None, "no flag type for this")

    with pytest.raises(TypeError, match="pairs"):
        add_sections(Parser(), {"odd": Odd})
