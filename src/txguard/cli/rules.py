"""``txguard rules`` and ``txguard lists``: the analyst rules and the watch lists they read."""

from typing import Annotated

import typer

from txguard.cli.admin import cli_actor
from txguard.cli.errors import reports_errors
from txguard.cli.runtime import migrated_runtime
from txguard.domain.enums import RuleAction

rules_app = typer.Typer(help="List, add, change and disable analyst rules.", no_args_is_help=True)
lists_app = typer.Typer(
    help='Watch lists that rules refer to as list("name").', no_args_is_help=True
)


@rules_app.command("list")
@reports_errors
def list_rules(
    all_versions: Annotated[bool, typer.Option("--all", help="Also show disabled rules.")] = False,
) -> None:
    """The rules in force (latest version of each), with action, weight and expression."""
    from txguard.scoring import rulebook
    from txguard.store import rules as store

    with migrated_runtime() as runtime:
        rulebook.ensure_default_rules(runtime.engine)
        rules = store.load_latest_rules(runtime.engine)
    for rule in rules:
        if rule.enabled or all_versions:
            state = "" if rule.enabled else "  (disabled)"
            typer.echo(
                f"{rule.name} v{rule.version}: {rule.action.value} +{rule.weight:g}  "
                f"{rule.expression}  — {rule.reason}{state}"
            )


@rules_app.command("add")
@reports_errors
def add_rule(
    name: Annotated[str, typer.Option("--name", help="Unique rule name.")],
    expression: Annotated[
        str, typer.Option("--expression", help='e.g. amount > 5000 and country != "FR"')
    ],
    action: Annotated[RuleAction, typer.Option("--action", help="block, review or flag.")],
    reason: Annotated[str, typer.Option("--reason", help="What analysts are shown on a hit.")],
    weight: Annotated[float, typer.Option("--weight", help="Risk score points a hit adds.")] = 20.0,
) -> None:
    """Save a rule (a new version if the name exists), after checking names and types."""
    from txguard.domain.rules import Rule
    from txguard.scoring import rulebook

    with migrated_runtime() as runtime:
        rulebook.ensure_default_rules(runtime.engine)
        saved = rulebook.save_rule(
            runtime.engine, Rule(name, expression, action, weight, reason), cli_actor()
        )
    typer.echo(f"saved {saved.name} v{saved.version}")


@rules_app.command("disable")
@reports_errors
def disable(name: Annotated[str, typer.Argument(help="The rule's name.")]) -> None:
    """Stop a rule from running; its history is kept."""
    from txguard.scoring import rulebook

    with migrated_runtime() as runtime:
        rulebook.ensure_default_rules(runtime.engine)
        rule = rulebook.disable_rule(runtime.engine, name, cli_actor())
    typer.echo(f"disabled {rule.name} (v{rule.version})")


@lists_app.command("list")
@reports_errors
def show_lists() -> None:
    """Every watch list with its kind and number of values."""
    from txguard.store import rules as store

    with migrated_runtime() as runtime:
        kinds = store.list_kinds(runtime.engine)
        contents = store.load_lists(runtime.engine)
    for name, kind in sorted(kinds.items()):
        typer.echo(f"{name} ({kind.value}): {len(contents.get(name, ())):,} values")


@lists_app.command("create")
@reports_errors
def create(
    name: Annotated[str, typer.Argument(help="The list's name.")],
    kind: Annotated[
        str, typer.Option("--kind", help="card, terminal, country or merchant_category.")
    ],
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Create an empty watch list."""
    from txguard.scoring import rulebook

    with migrated_runtime() as runtime:
        rulebook.create_list(runtime.engine, name, kind, cli_actor(), description=description)
    typer.echo(f"created list {name}")


@lists_app.command("add")
@reports_errors
def add(
    name: Annotated[str, typer.Argument(help="The list's name.")],
    values: Annotated[list[str], typer.Argument(help="Values to add (card ids are tokenised).")],
) -> None:
    """Add values to a list; card ids are stored only as tokens."""
    from txguard.scoring import rulebook

    with migrated_runtime() as runtime:
        stored = rulebook.stored_values(runtime.engine, runtime.tokeniser.token, name, values)
        added = rulebook.add_list_entries(runtime.engine, name, stored, cli_actor())
    typer.echo(f"added {added} new values to {name}")


@lists_app.command("remove")
@reports_errors
def remove(
    name: Annotated[str, typer.Argument(help="The list's name.")],
    values: Annotated[list[str], typer.Argument(help="Values to remove.")],
) -> None:
    """Remove values from a list."""
    from txguard.scoring import rulebook

    with migrated_runtime() as runtime:
        stored = rulebook.stored_values(runtime.engine, runtime.tokeniser.token, name, values)
        removed = rulebook.remove_list_entries(runtime.engine, name, stored, cli_actor())
    typer.echo(f"removed {removed} values from {name}")


@lists_app.command("delete")
@reports_errors
def delete(name: Annotated[str, typer.Argument(help="The list's name.")]) -> None:
    """Delete a list and its values; refused while an enabled rule reads it."""
    from txguard.scoring import rulebook

    with migrated_runtime() as runtime:
        rulebook.delete_list(runtime.engine, name, cli_actor())
    typer.echo(f"deleted list {name}")
