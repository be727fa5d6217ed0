"""Analysts manage rules and watch lists from the command line; bad rules never get saved."""

from pathlib import Path

import pandas as pd
from tests.fixtures.cli import Txguard


def test_the_default_rules_are_in_force_on_a_new_database(txguard: Txguard):
    result = txguard("rules", "list")
    assert result.exit_code == 0, result.output
    for name in ("High Value Transaction", "Suspicious Combo", "Card Velocity"):
        assert name in result.output


def test_a_rule_with_an_unknown_field_is_refused_naming_it(txguard: Txguard):
    result = txguard(
        "rules",
        "add",
        "--name",
        "Typo",
        "--expression",
        "amont > 5",
        "--action",
        "review",
        "--reason",
        "x",
    )
    assert result.exit_code == 2
    assert 'unknown name "amont"' in result.output and "amount" in result.output
    assert "Typo" not in txguard("rules", "list").output


def test_a_type_error_and_an_unknown_list_are_refused(txguard: Txguard):
    typed = txguard(
        "rules",
        "add",
        "--name",
        "T",
        "--expression",
        "merchant_category > 5",
        "--action",
        "review",
        "--reason",
        "x",
    )
    assert typed.exit_code == 2 and "merchant_category is text" in typed.output
    unknown = txguard(
        "rules",
        "add",
        "--name",
        "L",
        "--expression",
        'terminal_id in list("nope")',
        "--action",
        "flag",
        "--reason",
        "x",
    )
    assert unknown.exit_code == 2 and 'unknown list "nope"' in unknown.output
    assert "Traceback" not in typed.output + unknown.output


def test_a_watch_list_rule_blocks_in_replay(txguard: Txguard, small_parquet: Path):
    frame = pd.read_parquet(small_parquet)
    day = frame[frame["TX_DATETIME"].dt.date == pd.Timestamp("2018-04-29").date()]
    terminal = str(day["TERMINAL_ID"].iloc[0])
    assert txguard("lists", "create", "blocked_terminals", "--kind", "terminal").exit_code == 0
    assert txguard("lists", "add", "blocked_terminals", terminal).exit_code == 0
    saved = txguard(
        "rules",
        "add",
        "--name",
        "Blocked terminal",
        "--expression",
        'terminal_id in list("blocked_terminals")',
        "--action",
        "block",
        "--reason",
        "terminal on the block list",
        "--weight",
        "60",
    )
    assert saved.exit_code == 0, saved.output
    replayed = txguard(
        "replay",
        "--data",
        small_parquet,
        "--score-start",
        "2018-04-29",
        "--score-end",
        "2018-04-29",
        "--out",
        "scores.csv",
    )
    assert replayed.exit_code == 0, replayed.output
    scores = pd.read_csv("scores.csv", dtype={"transaction_id": str})
    blocked = set(day.loc[day["TERMINAL_ID"].astype(str) == terminal, "TRANSACTION_ID"].astype(str))
    decisions = scores.set_index("transaction_id")["decision"]
    assert blocked and all(decisions[t] == "block" for t in blocked)


def test_disabling_a_rule_keeps_its_history_but_stops_it(txguard: Txguard):
    assert txguard("rules", "disable", "Card Velocity").exit_code == 0
    listed = txguard("rules", "list").output
    assert "Card Velocity" not in listed
    assert "Card Velocity v2" in txguard("rules", "list", "--all").output
    missing = txguard("rules", "disable", "No Such Rule")
    assert missing.exit_code == 2 and "No Such Rule" in missing.output


def test_card_ids_in_a_list_are_stored_as_tokens(txguard: Txguard, db_url: str):
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from txguard.store.orm import ListEntryRow

    assert txguard("lists", "create", "stolen_cards", "--kind", "card").exit_code == 0
    assert txguard("lists", "add", "stolen_cards", "4111111111111111").exit_code == 0
    engine = create_engine(db_url)
    with Session(engine) as session:
        values = list(session.scalars(select(ListEntryRow.value)))
    engine.dispose()
    assert values and all(v.startswith("ct_") and "4111" not in v for v in values)


def test_a_list_is_deleted_once_no_enabled_rule_reads_it(txguard: Txguard):
    assert txguard("lists", "create", "blocked_terminals", "--kind", "terminal").exit_code == 0
    rule = ("rules", "add", "--name", "Blocked terminal", "--expression",
            'terminal_id in list("blocked_terminals")', "--action", "block", "--reason", "listed")  # fmt: skip
    assert txguard(*rule).exit_code == 0
    refused = txguard("lists", "delete", "blocked_terminals")
    assert refused.exit_code != 0 and '"Blocked terminal"' in refused.output
    assert "blocked_terminals" in txguard("lists", "list").output
    assert txguard("rules", "disable", "Blocked terminal").exit_code == 0
    deleted = txguard("lists", "delete", "blocked_terminals")
    assert deleted.exit_code == 0 and "deleted list blocked_terminals" in deleted.output
    assert "blocked_terminals" not in txguard("lists", "list").output
    missing = txguard("lists", "delete", "blocked_terminals")
    assert missing.exit_code != 0 and "does not exist" in missing.output
