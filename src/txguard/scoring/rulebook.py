"""Rules and watch lists as analysts edit them: checked against the rule language, then stored.

The store keeps versions and lists but cannot read a rule; the rule language reads rules but
does no I/O. This service joins them, so that no rule reaches the database without having
compiled against the lists that exist, and no list in use disappears from under a rule.
"""

import logging
from collections.abc import Callable, Iterable

from sqlalchemy import Engine

from txguard.domain.errors import ConflictError
from txguard.domain.rules import ListKind, Rule, RuleError
from txguard.rules import DEFAULT_RULES, RuleSet, compile_rule
from txguard.store import rules as store

logger = logging.getLogger(__name__)
SYSTEM_ACTOR = "system"


def save_rule(engine: Engine, rule: Rule, actor: str, *, extra_numeric: Iterable[str] = ()) -> Rule:
    """Store ``rule`` as the next version of its name, once it compiles; the stored rule."""
    compile_rule(rule, store.list_kinds(engine).keys(), extra_numeric)
    return store.save_rule(engine, rule, actor=actor)


def disable_rule(engine: Engine, name: str, actor: str) -> Rule:
    """Stop rule ``name`` from running, keeping its history."""
    return store.disable_rule(engine, name, actor=actor)


def load_rule_set(engine: Engine, *, extra_numeric: Iterable[str] = ()) -> RuleSet:
    """The enabled rules over the lists' current contents, ready to evaluate.

    A stored rule that no longer compiles (a feature was retired, a list was deleted by a
    concurrent edit) is left out with a warning rather than stopping every other rule.
    """
    lists = store.load_lists(engine)
    extra = tuple(extra_numeric)
    runnable = []
    for rule in store.load_active_rules(engine):
        try:
            compile_rule(rule, lists.keys(), extra)
        except RuleError as exc:
            logger.warning("rule left out of scoring: %s", exc)
            continue
        runnable.append(rule)
    return RuleSet(runnable, lists, extra_numeric=extra)


def ensure_default_rules(engine: Engine) -> int:
    """Seed the shipped rules into a rule table that never held any; how many were added."""
    return store.ensure_default_rules(engine, DEFAULT_RULES, actor=SYSTEM_ACTOR)


def create_list(
    engine: Engine, name: str, kind: ListKind | str, actor: str, *, description: str | None = None
) -> None:
    """Create an empty watch list that rules can refer to as ``list("name")``."""
    store.create_list(engine, name, kind, description=description, actor=actor)


def add_list_entries(engine: Engine, name: str, values: Iterable[str], actor: str) -> int:
    """Add values to a list (card values must already be tokens); how many were new."""
    return store.add_list_entries(engine, name, values, actor=actor)


def remove_list_entries(engine: Engine, name: str, values: Iterable[str], actor: str) -> int:
    """Remove values from a list; how many were there."""
    return store.remove_list_entries(engine, name, values, actor=actor)


def delete_list(engine: Engine, name: str, actor: str) -> None:
    """Delete a list no enabled rule refers to; otherwise say which rules do."""
    names = store.list_kinds(engine).keys()
    users = [
        rule.name for rule in store.load_active_rules(engine) if name in _lists_read(rule, names)
    ]
    if users:
        quoted = ", ".join(f'"{user}"' for user in users)
        raise ConflictError(
            f'list "{name}" is used by the enabled rules {quoted}; edit or disable them first'
        )
    store.delete_list(engine, name, actor=actor)


def _lists_read(rule: Rule, list_names: Iterable[str]) -> frozenset[str]:
    try:
        return compile_rule(rule, frozenset(list_names)).list_names
    except RuleError:  # a rule that cannot run reads no list
        return frozenset()


def latest_rules(engine: Engine) -> list[Rule]:
    """The latest version of every rule, disabled ones included, by name."""
    return store.load_latest_rules(engine)


def list_overview(engine: Engine) -> list[tuple[str, ListKind, int]]:
    """Every watch list's name, kind and number of values."""
    kinds = store.list_kinds(engine)
    lists = store.load_lists(engine)
    return [(name, kinds[name], len(lists.get(name, ()))) for name in sorted(kinds)]


def stored_values(
    engine: Engine, token: Callable[[str], str], name: str, values: Iterable[str]
) -> list[str]:
    """Values as list ``name`` holds them: a card list holds tokens, never card numbers."""
    if store.list_kinds(engine).get(name) is ListKind.CARD:
        return [token(value) for value in values]
    return list(values)
