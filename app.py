"""Eddy's command line: `uv run app.py` starts Eddy; `uv run app.py --help` lists the rest."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console

from bot.settings import Settings, SettingsError, load_settings, require
from bot.text import plural

if TYPE_CHECKING:
    from rich.progress import TaskID

    from bot.learning_reports import Team
    from bot.runtime import Runtime
    from store.db import Store

cli = typer.Typer(
    help="Eddy: a Slack app for learning in the flow of work.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="The database.", no_args_is_help=True)
content_cli = typer.Typer(help="The content folder.", no_args_is_help=True)
experts_cli = typer.Typer(help="Subject-matter networks.", no_args_is_help=True)
lessons_cli = typer.Typer(help="Micro-lessons.", no_args_is_help=True)
badges_cli = typer.Typer(help="Reaction badges.", no_args_is_help=True)
export_cli = typer.Typer(
    help="Learning records, a person's data and the analytics, as files.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")
cli.add_typer(content_cli, name="content")
cli.add_typer(experts_cli, name="experts")
cli.add_typer(lessons_cli, name="lessons")
cli.add_typer(badges_cli, name="badges")
cli.add_typer(export_cli, name="export")
forget_cli = typer.Typer(help="Erasing what Eddy keeps about a person.", no_args_is_help=True)
cli.add_typer(forget_cli, name="forget")
lrs_cli = typer.Typer(help="Forwarding to a Learning Record Store.", no_args_is_help=True)
cli.add_typer(lrs_cli, name="lrs")
err = Console(stderr=True)
log = logging.getLogger("eddy")


class Mode(StrEnum):
    auto = "auto"
    socket = "socket"
    http = "http"
    console = "console"


class Lead:
    """How a one-sentence failure begins: "Eddy cannot start" only under `run` and `console`
    (which set `starting`), "Nothing was done" under any other command, so a mistyped
    argument is never reported as Eddy failing to start."""

    starting = False


def fail(message: str, cause: BaseException | None = None) -> typer.Exit:
    """Tell the operator what is wrong in one sentence, and exit with status 2.

    The cause's traceback goes to the log at DEBUG (EDDY_LOG_LEVEL=DEBUG shows it)."""
    if cause is not None:
        log.debug("The command failed", exc_info=cause)
    lead = "Eddy cannot start" if Lead.starting else "Nothing was done"
    err.print(f"[bold red]{lead}:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise fail(str(error)) from None


def now(settings: Settings) -> datetime:
    """The current instant on Eddy's clock: the real time, or `EDDY_CLOCK` when set."""
    from bot.runtime import clock_for

    return clock_for(settings).now()


def open_store(settings: Settings) -> Store:
    """The database, migrated, or a one-sentence exit."""
    from store.db import Store, StoreError

    try:
        store = Store.connect(settings.database_url)
        store.upgrade()
    except StoreError as error:
        raise fail(str(error), error.__cause__) from None
    return store


def setup_logging(settings: Settings, *, to_file: Path | None = None) -> None:
    handler: logging.Handler
    if to_file is not None:
        to_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(to_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.eddy_log_level, handlers=[handler], force=True)
    if settings.eddy_log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)


def choose_mode(mode: Mode, settings: Settings) -> Mode:
    """`auto`: Socket Mode with an app token; HTTP when any other Slack credential is set
    (so a missing companion setting stops Eddy with the sentence naming it, rather than
    quietly opening the sandbox); the console sandbox only when none is set."""
    if mode is not Mode.auto:
        return mode
    if settings.slack_app_token:
        return Mode.socket
    if settings.slack_bot_token or settings.slack_signing_secret:
        return Mode.http
    return Mode.console


@cli.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Act on the console sandbox's data, at the sandbox's time "
            "(`uv run app.py --sandbox export user U0SAM0002`).",
        ),
    ] = False,
) -> None:
    """With no command, `run --mode auto`."""
    if sandbox:
        from sandbox.console import SANDBOX_CLOCK_FILE, SANDBOX_DATABASE_URL

        os.environ["DATABASE_URL"] = SANDBOX_DATABASE_URL
        clock = Path(SANDBOX_CLOCK_FILE)
        if clock.exists() and "EDDY_CLOCK" not in os.environ:
            os.environ["EDDY_CLOCK"] = clock.read_text(encoding="utf-8").strip()
    if ctx.invoked_subcommand is None:
        run(mode=Mode.auto, port=None)


@cli.command()
def run(
    mode: Annotated[Mode, typer.Option(help="auto, socket, http or console.")] = Mode.auto,
    port: Annotated[int | None, typer.Option(help="HTTP port (default: PORT or 3000).")] = None,
) -> None:
    """Run Eddy: over Socket Mode, over HTTP, or in the console sandbox."""
    Lead.starting = True
    settings = settings_or_exit()
    chosen = choose_mode(mode, settings)
    if chosen is Mode.console:
        console()
        return
    try:
        if chosen is Mode.socket:
            settings.require_socket_mode()
        else:
            settings.require_slack_http()
    except SettingsError as error:
        raise fail(str(error)) from None
    setup_logging(settings)
    from bot.runtime import open_runtime
    from handlers import StartupError, create_app
    from handlers.serve import serve_http, serve_socket_mode
    from store.db import StoreError

    try:
        runtime = open_runtime(settings)
        app = create_app(runtime, load_in_background=True)
    except (StoreError, StartupError) as error:
        raise fail(str(error), error.__cause__) from None
    log.info("Starting Eddy in %s mode", chosen.value)
    try:
        if chosen is Mode.socket:
            serve_socket_mode(app, runtime)
        else:
            serve_http(app, runtime, port=port or settings.port)
    except StartupError as error:
        raise fail(str(error), error.__cause__) from None
    finally:
        runtime.close()


@cli.command()
def console(
    user: Annotated[str, typer.Option(help="Who you are in the sandbox.")] = "alex",
    channel: Annotated[str, typer.Option(help="Where you start.")] = "general",
    reset: Annotated[
        bool, typer.Option("--reset", help="Start over: forget everything the sandbox kept.")
    ] = False,
) -> None:
    """The local sandbox: talk to the real Eddy through a pretend Slack in this terminal."""
    Lead.starting = True
    settings = settings_or_exit()
    from handlers import StartupError
    from sandbox.console import CONSOLE_LOG, reset_sandbox, run_console
    from store.db import StoreError

    if reset:
        removed = reset_sandbox()
        err.print(
            "Started over: the sandbox's database is gone."
            if removed
            else "Nothing to start over from: the sandbox has kept nothing yet.",
            highlight=False,
        )
    setup_logging(settings, to_file=Path(CONSOLE_LOG))
    try:
        run_console(settings, user=user, channel=channel)
    except (StoreError, SettingsError, StartupError) as error:
        raise fail(str(error), error.__cause__) from None


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (Eddy also does this at start)."""
    settings = settings_or_exit()
    setup_logging(settings)
    store = open_store(settings)
    store.close()
    err.print(f"Database is up to date: {store.url.render_as_string()}", highlight=False)


@content_cli.command("check")
def content_check(
    folder: Annotated[Path | None, typer.Argument(help="Default: EDDY_CONTENT_DIR.")] = None,
) -> None:
    """Validate the content files; list every problem with file and line; exit 1 if any."""
    from bot.content.check import check_content

    folder = folder or settings_or_exit().eddy_content_dir
    problems = check_content(folder)
    out = Console()
    for problem in problems:
        out.print(str(problem), highlight=False, soft_wrap=True)
    if problems:
        out.print(f"[red]{plural(len(problems), 'problem')} in {folder}[/]")
        raise typer.Exit(code=1)
    out.print(f"[green]{folder}: all content is valid[/]")


@experts_cli.command("report")
def experts_report() -> None:
    """How fast each network responds: questions routed, answered and resolved per topic, and
    the median time to the first response and to resolution."""
    settings = settings_or_exit()
    setup_logging(settings)
    from rich.table import Table

    from bot.networks import response_report

    store = open_store(settings)
    report = response_report(store)
    store.close()
    out = Console()
    if not report:
        out.print("No questions have been sent to the experts yet.")
        return
    for team, topics in report.items():
        table = Table(title=f"Subject-matter networks of workspace {team}")
        for heading in ("topic", "asked", "answered", "resolved", "first response", "resolution"):
            table.add_column(heading, justify="left" if heading == "topic" else "right")
        for times in topics:
            table.add_row(
                times.topic,
                str(times.asked),
                str(times.answered),
                str(times.resolved),
                duration(times.first_response),
                duration(times.resolution),
            )
        out.print(table)
    out.print("Times are medians, counted from when the question reached the network.")


@lessons_cli.command("deliver")
def lessons_deliver(
    at: Annotated[
        str | None,
        typer.Option(help="Run as at this instant (ISO-8601, e.g. 2026-11-23T09:30:00+01:00)."),
    ] = None,
) -> None:
    """Run the lesson delivery job once, as the scheduler would (for an external cron).
    Re-running it, or running it beside the scheduler, never sends a lesson twice."""
    settings = settings_or_exit()
    instant = now(settings)
    if at is not None:
        try:
            instant = datetime.fromisoformat(at)
        except ValueError:
            raise fail(f"--at {at!r} is not an ISO-8601 time like 2026-11-23T09:30:00Z.") from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)  # a time without an offset is read as UTC
    try:
        require(("SLACK_BOT_TOKEN", settings.slack_bot_token))  # posting needs nothing more
    except SettingsError as error:
        raise fail(str(error)) from None
    setup_logging(settings)
    from bot.clock import ManualClock
    from bot.lessons import deliver
    from bot.runtime import open_runtime
    from handlers import StartupError, create_app
    from store.db import StoreError

    clock = ManualClock(instant)
    try:
        runtime = open_runtime(settings, clock=clock)
        create_app(runtime)
    except (StoreError, StartupError) as error:
        raise fail(str(error), error.__cause__) from None
    try:
        report = deliver(runtime, instant)
    finally:
        runtime.close()
    Console().print(
        f"Lessons at {instant.isoformat()}: {report.planned} planned, {report.sent} sent, "
        f"{report.recovered} found already sent, {report.failed} failed, "
        f"{report.retrying} to retry later",
        highlight=False,
        soft_wrap=True,
    )


@badges_cli.command("audit")
def badges_audit() -> None:
    """Recompute everyone's points from the ledger and compare them with the running totals
    that /badges and the leaderboards show; exit 1 if any differ."""
    settings = settings_or_exit()
    setup_logging(settings)
    from bot.badges import audit

    store = open_store(settings)
    audits = audit(store)
    store.close()
    out = Console()
    if not audits:
        out.print("No points have been given yet.")
    for team, found in audits.items():
        out.print(
            f"Workspace {team}: {found.ledger_rows:,} ledger rows, {found.people:,} people "
            "with points.",
            highlight=False,
        )
        for (user, emoji), (stored, recomputed) in found.mismatches.items():
            out.print(
                f"[red]{user} :{emoji}: shows {stored} but the ledger adds up to {recomputed}[/]"
            )
        if not found.mismatches:
            out.print("[green]The totals match the ledger.[/]")
    if any(found.mismatches for found in audits.values()):
        raise typer.Exit(code=1)


def instant_option(value: str | None, option: str) -> datetime | None:
    """A command-line date or time: `2026-11-01` (midnight UTC) or ISO-8601 with an offset
    (a time without an offset is read as UTC)."""
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option} {value!r} is not a date like 2026-11-01 or a time like "
            "2026-11-01T09:30:00+01:00."
        ) from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


@contextmanager
def output(out: Path | None) -> Iterator[TextIO]:
    """The file to write (created with its folder), or standard output."""
    if out is None:
        yield sys.stdout
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as file:
            yield file
    except OSError as error:
        raise fail(f"Cannot write {out}: {error.strerror}.") from None


@export_cli.command("xapi")
def export_xapi(
    since: Annotated[
        str | None,
        typer.Option(help="Only events from this date or time on (default: from the first)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only events before this date or time (default: now).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """Every learning event as an xAPI 1.0.3 statement, one JSON object per line (JSON Lines),
    oldest first. A statement is made once, when Eddy records its event, and never changes:
    exporting again gives the same statements, under the same ids."""
    settings = settings_or_exit()
    setup_logging(settings)
    start = instant_option(since, "--since")
    end = instant_option(until, "--until") or now(settings)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot import xapi

    store = open_store(settings)
    sources = [xapi.source_for(store, team) for team in xapi.known_workspaces(store)]
    if not sources:
        raise fail(
            "Eddy has not met its Slack workspace yet: start it once (uv run app.py) so that "
            "it learns the workspace's address, which names every person in the statements."
        )
    written = Counter[str]()
    progress = Progress(
        TextColumn("Exporting {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days, {task.fields[written]:,} statements"),
        console=err,
        transient=True,
    )
    with output(out) as file, progress:
        for source in sources:
            if source is None:
                continue
            task = progress.add_task(source.team_id, total=None, written=0)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total, written=written["all"])

            made = xapi.export(
                store, source, since=start, until=end, now=now(settings), progress=advance
            )
            for statement in made:
                file.write(json.dumps(statement, ensure_ascii=False, separators=(",", ":")))
                file.write("\n")
                written["all"] += 1
    store.close()
    where = f" to {out}" if out is not None else ""
    err.print(f"Exported {written['all']:,} statements{where}.", highlight=False)


@export_cli.command("analytics")
def export_analytics(
    days: Annotated[
        int, typer.Option(min=1, max=3660, help="The period: this many days up to now.")
    ] = 30,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """The managers' analytics (the App Home console's figures) as CSV for spreadsheets: one
    row per figure, with the whole period and each day (7 days) or week of its trend."""
    settings = settings_or_exit()
    setup_logging(settings)
    from bot import analytics, xapi
    from bot.runtime import Runtime

    at = now(settings)
    store = open_store(settings)
    reports = {
        team: analytics.report(
            Runtime(settings=settings, store=store, team_id=team), days=days, now=at
        )
        for team in xapi.known_workspaces(store)
    }
    store.close()
    if not reports:
        raise fail("Eddy has not met its Slack workspace yet: start it once (uv run app.py).")
    with output(out) as file:
        writer = csv.writer(file)
        for number, (team, found) in enumerate(reports.items()):
            header, rows = analytics.table(found)
            if number == 0:
                writer.writerow(["workspace", *header])
            writer.writerows([team, *row] for row in rows)
    if out is not None:
        err.print(f"Wrote {days}-day analytics to {out}.", highlight=False)


@export_cli.command("learning")
def export_learning(
    path: Annotated[
        str,
        typer.Option(
            help="The learning path: its id (security-basics) or its title.", show_default=False
        ),
    ],
    group: Annotated[
        str | None, typer.Option(help="Only the members of this Slack user group (@support-team).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Only the members of this channel (#support).")
    ] = None,
    items: Annotated[
        bool,
        typer.Option(
            "--items",
            help="Each quiz item's accuracy (hardest first) and the lesson-by-lesson funnel, "
            "instead of one row per person.",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """A learning path's team report as CSV, as the Home console's Learning tab shows it: one
    row per enrolled person (origin, start, due date, lessons done and known, completion,
    standing, quiz accuracy), or with --items the quiz items and the funnel.

    --group and --channel need to know who is in the team: Eddy's cached members of a group or
    channel a path was assigned to, else Slack, asked with SLACK_BOT_TOKEN (Eddy's own token).
    Names are filled in only when SLACK_BOT_TOKEN is set."""
    settings = settings_or_exit()
    setup_logging(settings)
    if group is not None and channel is not None:
        raise fail("Give either --group or --channel, not both.")
    words = group if group is not None else channel
    if group is not None and not group.startswith("@"):
        raise fail(f"--group {group!r} is not a user group; give its handle, like @support-team.")
    if channel is not None and not channel.startswith("#"):
        raise fail(f"--channel {channel!r} is not a channel; give its name, like #support.")
    from bot import learning_reports, xapi
    from bot.runtime import Runtime

    store = open_store(settings)
    try:
        teams = xapi.known_workspaces(store)
        if not teams:
            raise fail("Eddy has not met its Slack workspace yet: start it once (uv run app.py).")
        runtimes = [Runtime(settings=settings, store=store, team_id=team) for team in teams]
        found = None
        known: set[str] = set()
        for runtime in runtimes:
            paths = learning_reports.stored_paths(runtime)
            known |= set(paths)
            match = next(
                (
                    each
                    for key, each in sorted(paths.items())
                    if path.casefold() in (key.casefold(), each.title.casefold())
                ),
                None,
            )
            if match is not None:
                found = (runtime, match)
                break
        if found is None:
            listed = ", ".join(sorted(known)) or "none yet"
            raise fail(f"No learning path called {path!r}: the paths are {listed}.")
        runtime, chosen = found
        team = learning_team(runtime, words, kind="group" if group is not None else "channel")
        report = learning_reports.report(runtime, chosen, team=team, now=now(settings))
        names = {} if items else learning_names(runtime, [p.user_id for p in report.people])
    finally:
        store.close()
    with output(out) as file:
        writer = csv.writer(file)
        if items:
            writer.writerow(learning_reports.ITEMS_HEADER)
            writer.writerows(learning_reports.item_rows(report))
        else:
            writer.writerow(learning_reports.CSV_HEADER)
            writer.writerows(
                learning_reports.person_row(person, names.get(person.user_id, ""))
                for person in report.people
            )
    if out is not None:
        who = f" in {team.name}" if team is not None else ""
        err.print(
            f"Wrote the report on {chosen.title}{who} ({plural(report.enrolled, 'person')}) "
            f"to {out}.",
            highlight=False,
        )


def learning_team(runtime: Runtime, words: str | None, *, kind: str) -> Team | None:
    """The team `--group`/`--channel` names: Eddy's cached members, else Slack's answer;
    one sentence and exit 2 when neither can say."""
    if words is None:
        return None
    from bot import learning_reports

    cached = learning_reports.cached_team(runtime, kind, words[1:])
    if cached is not None:
        return cached
    if not runtime.settings.slack_bot_token:
        raise fail(
            f"Reporting on {words} needs SLACK_BOT_TOKEN, so that Eddy can ask Slack who is in "
            "it (Eddy keeps the members only of groups and channels a path was assigned to)."
        )
    from handlers import web_client
    from handlers.learning_reports import TeamLookUpError, team_members

    try:
        team = team_members(runtime, web_client(runtime), words)
    except TeamLookUpError as error:
        raise fail(str(error), error.__cause__) from None
    if team is None:
        what = "user group" if kind == "group" else "channel Eddy can see called"
        raise fail(f"Slack knows no {what} {words}.")
    return team


def learning_names(runtime: Runtime, user_ids: list[str]) -> dict[str, str]:
    """People's names as Slack says, when the command line has Eddy's token (else none)."""
    if not runtime.settings.slack_bot_token or not user_ids:
        return {}
    from handlers import web_client
    from handlers.people import name_of

    client = web_client(runtime)
    return {user: name_of(runtime, client, user) or "" for user in user_ids}


UserIdArgument = Annotated[
    str, typer.Argument(help="The person's Slack member ID, like U012ABCDEF.", show_default=False)
]
TeamOption = Annotated[
    str | None,
    typer.Option(help="The workspace's team ID (needed only when the database holds several)."),
]


@content_cli.command("import")
def content_import(
    source: Annotated[
        Path, typer.Argument(help="A folder, a file or a .zip export.", show_default=False)
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto, markdown, html, confluence, notion, csv, xlsx or docx.",
        ),
    ] = "auto",
    topic: Annotated[
        str | None, typer.Option(help="The topic (networks.yml key) of pages that name none.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Who keeps the imported entries (a Slack member ID).")
    ] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish/--review",
            help="Answer at once, or wait in the Home tab's review queue (the default).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="The source's name (default: its folder or file name). Import a later export "
            "under the same name to update it in place.",
        ),
    ] = None,
    team: TeamOption = None,
) -> None:
    """Import a company's existing knowledge: a docs folder (Markdown, HTML), a Confluence or
    Notion export, an FAQ spreadsheet (CSV, XLSX) or a Word document. Importing the same
    source again updates what changed, adds what is new and flags what disappeared."""
    settings = settings_or_exit()
    setup_logging(settings)
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from bot import importing, privacy
    from bot.content.catalogue import Catalogue
    from bot.importers import FORMATS, SourceProblem, read_source
    from bot.runtime import open_runtime

    if format not in FORMATS:
        raise fail(f"--format {format!r} is not one of {', '.join(FORMATS)}.")
    if owner is not None and not privacy.looks_like_user_id(owner):
        raise fail(f"--owner {owner!r} is not a Slack member ID (they look like U012ABCDEF).")
    try:
        read = read_source(source, format=format)
    except SourceProblem as error:
        raise fail(str(error)) from None
    store = open_store(settings)
    teams = privacy.workspaces(store)
    store.close()
    if team is None and len(teams) != 1:
        raise fail(
            "Eddy has not met its Slack workspace yet: start it once (uv run app.py), then import."
            if not teams
            else f"This database holds several workspaces ({', '.join(teams)}): choose --team."
        )
    if team is not None and team not in teams:
        raise fail(f"This database holds no workspace {team!r}.")
    if not publish and not (owner or settings.eddy_managers):
        raise fail(
            "Someone must review the imported entries: set EDDY_MANAGERS or --owner, or "
            "import with --publish."
        )
    runtime = open_runtime(settings)
    runtime.team_id = team or teams[0]
    runtime.opened_catalogue = Catalogue.open(runtime)
    if topic is not None and topic not in runtime.catalogue.topics:
        known = ", ".join(sorted(runtime.catalogue.topics)) or "none yet"
        runtime.close()
        raise fail(f"--topic {topic!r} is not a topic in networks.yml (they are: {known}).")
    progress = Progress(
        TextColumn("Importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        console=err,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("pages", total=len(read.pages))
            report = importing.import_pages(
                runtime,
                read,
                source=name or source.resolve().name,
                topic=topic,
                owner=owner,
                review=not publish,
                dry_run=dry_run,
                reviewer=owner or next(iter(settings.eddy_managers), None),
                progress=lambda: progress.advance(task),
            )
    finally:
        runtime.close()
    out = Console()
    for note in report.notes:
        out.print(f"[dim]{escape(note)}[/]")
    table = Table(title=f"Import of {escape(report.source)} ({report.format})")
    table.add_column("what", no_wrap=True)
    table.add_column("entries", justify="right")
    table.add_column("details")
    waiting = " (waiting in the review queue)" if not publish and not dry_run else ""
    rows = (
        ("created", report.created, waiting),
        ("updated", report.updated, waiting),
        ("unchanged", report.unchanged, ""),
        ("skipped", [f"{s.where}: {s.reason}" for s in report.skipped], ""),
        (
            "near-duplicates",
            [f"{page} ≈ {entry}" for page, entry in report.duplicates],
            "not added",
        ),
        ("gone from the source", report.gone, "kept, flagged for review"),
    )
    for label, items, detail in rows:
        shown = "; ".join(items[:5]) + (f"; …and {len(items) - 5} more" if len(items) > 5 else "")
        table.add_row(label, f"{len(items):,}", escape(" ".join(p for p in (detail, shown) if p)))
    out.print(table)
    if dry_run:
        out.print("Dry run: nothing was changed.")


def person_store(settings: Settings, user_id: str, team: str | None) -> tuple[Store, str]:
    """The database and the workspace that a command about one person works on; one sentence
    and exit 2 when the ID or the workspace is not right."""
    from bot import privacy

    if not privacy.looks_like_user_id(user_id):
        raise fail(
            f"{user_id!r} is not a Slack member ID: those look like U012ABCDEF (in Slack, the "
            "person's profile → ⋮ → Copy member ID)."
        )
    store = open_store(settings)
    teams = privacy.workspaces(store)
    problem = None
    if team is not None and team not in teams:
        known = ", ".join(teams) or "none yet"
        problem = f"This database holds no workspace {team!r} (it holds: {known})."
    elif team is None and not teams:
        problem = "This database holds no workspace yet, so Eddy keeps nothing about anyone."
    elif team is None and len(teams) > 1:
        problem = (
            f"This database holds several workspaces ({', '.join(teams)}): choose one with --team."
        )
    if problem is not None:
        store.close()
        raise fail(problem)
    return store, team or teams[0]


@export_cli.command("user")
def export_user(
    user_id: UserIdArgument,
    team: TeamOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """Everything Eddy keeps about one person, as JSON (for a data access request): their
    questions, routed questions and answers, entries and drafts, lessons, quiz results,
    points, badges, expertise, Home tab, and their learning records as xAPI statements."""
    settings = settings_or_exit()
    setup_logging(settings)
    from bot import privacy

    store, team_id = person_store(settings, user_id, team)
    try:
        document = privacy.export_person(store, team_id, user_id, now=now(settings))
    finally:
        store.close()
    if not privacy.rows_in(document) and not document["learning_records"]:
        raise fail(
            f"Eddy keeps nothing about {user_id} in workspace {team_id}: no row names them, "
            "so no file was written (check the member ID, or --team)."
        )
    with output(out) as file:
        file.write(privacy.as_json(document))
    where = f" to {out}" if out is not None else ""
    err.print(
        f"Exported what Eddy keeps about {user_id}: {privacy.rows_in(document):,} rows and "
        f"{len(document['learning_records']):,} learning records{where}.",
        highlight=False,
    )


@forget_cli.command("user")
def forget_user(
    user_id: UserIdArgument,
    team: TeamOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking first.")] = False,
) -> None:
    """Erase or anonymise everything Eddy keeps about one person (for an erasure request).
    Their own data is deleted; the events that figures count keep a pseudonym that names
    nobody; their question wordings are erased; knowledge they wrote stays, by "former
    member". Learning records an LRS may hold are voided. It cannot be undone."""
    settings = settings_or_exit()
    setup_logging(settings)
    from rich.table import Table

    from bot import privacy
    from store.privacy import CHANGE_KINDS

    store, team_id = person_store(settings, user_id, team)
    if not yes:
        try:
            confirmed = typer.confirm(
                f"Forget {user_id} in workspace {team_id}? This cannot be undone.",
                default=False,
                err=True,
            )
        except typer.Abort:
            confirmed = False
        if not confirmed:
            store.close()
            err.print("Nothing was erased (confirm, or pass --yes).", highlight=False)
            raise typer.Exit(code=1)
    try:
        forgotten = privacy.forget_person(store, team_id, user_id, now=now(settings))
    finally:
        store.close()
    out = Console()
    done = {kind for counts in forgotten.changes.values() for kind in counts}
    kinds = [kind for kind in CHANGE_KINDS if kind in done]
    table = Table(title=f"Forgot {user_id} in workspace {team_id}")
    table.add_column("table", no_wrap=True)
    for kind in kinds:
        table.add_column(kind, justify="right")
    for name, counts in forgotten.changes.items():
        table.add_row(name, *(f"{counts[kind]:,}" if kind in counts else "" for kind in kinds))
    if forgotten.changes:
        out.print(table)
    else:
        out.print(f"Eddy kept nothing about {user_id}.", highlight=False)
    out.print(
        f"{forgotten.changes_made:,} changes, and {forgotten.voided:,} learning records queued "
        "for voiding at the LRS. The erasure is recorded (counts only, no ID).",
        highlight=False,
        soft_wrap=True,
    )
    for path in privacy.content_naming(settings.eddy_content_dir, user_id):
        err.print(
            f"[yellow]{path} names {user_id}:[/] edit it (an owner, a topic's managers), or the "
            "next content load writes the ID back.",
            highlight=False,
            soft_wrap=True,
        )
    if settings.is_manager(user_id):
        err.print(f"[yellow]EDDY_MANAGERS names {user_id}:[/] take them out.", highlight=False)


@lrs_cli.command("status")
def lrs_status() -> None:
    """What waits for the LRS: statements by state, the oldest waiting, how far each
    workspace's events are queued, the LRS's backoff (failures in a row, the next try, the
    last error) and the statements it refused, with its reasons."""
    settings = settings_or_exit()
    setup_logging(settings)
    from bot import lrs

    store = open_store(settings)
    found = lrs.status(store, settings)
    store.close()
    out = Console()

    def say(text: str) -> None:
        out.print(text, highlight=False, soft_wrap=True)

    where = (
        f"forwarding to the LRS at {lrs.LrsClient.from_settings(settings).host}"
        if settings.forwards_to_lrs
        else "forwarding is off"
    )
    say(
        f"{where}: {found['pending']:,} waiting, {found['sent']:,} sent (kept a week), "
        f"{found['rejected']:,} rejected"
    )
    if found["oldest_pending"]:
        say(f"oldest waiting event {found['oldest_pending']}")
    backoff = found["backoff"]
    if backoff is not None:
        say(
            f"the LRS failed {plural(backoff['failures'], 'time')} in a row since "
            f"{backoff['failing_since']}: next try at {backoff['next_try']} (`lrs retry` tries "
            f"now); last error: {backoff['last_error']}"
        )
    elif settings.forwards_to_lrs:
        say("no backoff: the LRS has not failed since it last answered")
    for team, until in found["queued_until"].items():
        say(f"workspace {team}: events queued up to {until}")
    if found["rejected"]:
        say(
            f"rejected by the LRS ({found['rejected']:,}; `lrs retry --rejected` sends them again):"
        )
    for refused in found["rejected_statements"]:
        say(
            f"  statement {refused['statement_id']} ({refused['verb']}, "
            f"{refused['happened_at']}): {refused['reason']}"
        )
    if found["rejected"] > len(found["rejected_statements"]):
        say(f"  and {found['rejected'] - len(found['rejected_statements']):,} more")


@lrs_cli.command("retry")
def lrs_retry(
    rejected: Annotated[
        bool,
        typer.Option(
            "--rejected",
            help="Also send again the statements the LRS refused for good (`lrs status` lists "
            "them), once what made it refuse them is fixed; without it they stay set aside.",
        ),
    ] = False,
) -> None:
    """Send what waits for the LRS now, whatever its backoff: after fixing Eddy's credentials
    or EDDY_LRS_URL, or once the LRS is back. Runs until nothing waits or the LRS fails, then
    says what was sent, rejected and still waits, and why the LRS failed (exit 1)."""
    settings = settings_or_exit()
    setup_logging(settings)
    from bot import lrs

    if not settings.forwards_to_lrs:
        err.print(
            "Forwarding is off: set EDDY_LRS_URL to your Learning Record Store's xAPI endpoint "
            "(in .env or the environment), then run this again.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    store = open_store(settings)
    try:
        done = lrs.send_now(store, settings, now(settings), rejected=rejected)
    finally:
        store.close()
    out = Console()
    host = lrs.LrsClient.from_settings(settings).host
    if done.queued:
        out.print(f"{plural(done.queued, 'statement')} of new events queued.", highlight=False)
    if rejected:
        out.print(f"{plural(done.requeued, 'rejected statement')} queued again.", highlight=False)
    report = done.forwarded
    out.print(
        f"Sent {plural(report.sent, 'statement')} to the LRS at {host} ({report.already_there:,} "
        f"already there), {report.rejected:,} rejected, {done.waiting:,} still waiting.",
        highlight=False,
        soft_wrap=True,
    )
    if report.failure is not None:
        err.print(lrs.explain(report.failure, host), highlight=False, soft_wrap=True)
        raise typer.Exit(code=1)


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = value.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


if __name__ == "__main__":
    cli()
