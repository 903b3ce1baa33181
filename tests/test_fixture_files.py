"""The committed fixture files are valid: evidence verbatim, key facts present, ids unique."""

from __future__ import annotations

from tests.fixtures.check_fixtures import main


def test_all_fixture_files_check_out(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([]) == 0, capsys.readouterr().out
