"""Every command and option of the CLI is in README.md (in the spirit of sqlite-utils's
tests/test_docs.py): a command added or an option renamed without the README fails here.

The README's "Commands" block has one line per command ("  status [CAMPAIGN] [--cycle C] ..."):
each command must have its line, and each of its options and positional arguments must be on it;
the global options are on the first line ("tonghop [--config DIR] [--now TIMESTAMP] COMMAND")."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from daemon.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def commands_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block, "README.md: no ``` block under ## Commands"
    return block.group(1).splitlines()


def words_of(parser: argparse.ArgumentParser) -> list[str]:
    """What a reader must find for a parser: its option strings (the long form) and, for
    positional arguments, their metavar."""
    out = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.option_strings:
            out.append(max(action.option_strings, key=len))
        else:
            out.append(action.metavar or action.dest.upper())
    return out


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def line_of(command: str, lines: list[str]) -> str | None:
    return next((line for line in lines if re.match(rf"^\s+{re.escape(command)}(\s|$)", line)), None)


def test_global_options_are_documented():
    first = commands_block()[0]
    assert first.startswith("tonghop ")
    for word in words_of(build_parser()):
        if word != "COMMAND":
            assert word in first, f"README.md: global option {word} missing from «{first}»"


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_command_and_its_options_are_documented(command):
    line = line_of(command, commands_block())
    assert line is not None, f"README.md: command «{command}» missing from the Commands block"
    for word in words_of(subcommands()[command]):
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", line), \
            f"README.md: «{command}»: {word} missing from «{line.strip()}»"


def test_the_check_fails_for_an_undocumented_option():
    parser = subcommands()["status"]
    parser.add_argument("--undocumented-flag", action="store_true")
    line = line_of("status", commands_block())
    assert "--undocumented-flag" in words_of(parser) and "--undocumented-flag" not in line
    assert line_of("no-such-command", commands_block()) is None
