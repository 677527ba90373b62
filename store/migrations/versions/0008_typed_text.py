"""text as people typed it: questions, answers, learned wordings and rejection reasons stored
before this revision held Slack's escaping (`&amp;`, `&lt;`, `&gt;`) and its markup
(`<@U1|sam>`, `<!here>`, `<https://x|docs>`); they now hold typed text (handlers/blocks.py)

The conversion is frozen here as it was written (a migration must keep doing what it did,
whatever the handlers become): entities undone, mentions `@U…`, broadcasts and groups `@name`,
channels `#name`, links their text and target. Only rows holding `&`, `<` or `>` are read. A
learned wording whose typed form is already learned for its entry is dropped (they were the
same wording). A lesson schedule paused "by <@U…>" reads "paused by a community manager".

The downgrade escapes `&`, `<` and `>` again, which is what the earlier code stored for text
without mentions or links; those it cannot restore, and it does not pretend to.

Revision ID: 0008
Revises: 0007
"""

import re
import string
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, key column, text column) holding Slack's form of what people wrote.
TYPED_COLUMNS = (
    ("question_log", "id", "question"),
    ("routed_question", "id", "question"),
    ("routed_question", "id", "answer"),
    ("entry_draft", "id", "decision_note"),
)
MARKUP = re.compile(r"<([^<>]*)>")
ENTITY = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
SCHEMES = ("https://", "http://", "mailto:")
BATCH = 1000


def _as_typed(match: re.Match[str]) -> str:
    target, _, label = match[1].partition("|")
    label = label.strip()
    if target.startswith("@"):
        return target
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("date^"):
            return label
        return "@" + (label.lstrip("@") or command.split("^")[0])
    if target.startswith("#"):
        return "#" + (label.lstrip("#") or target[1:])
    bare = next((target.removeprefix(s) for s in SCHEMES if target.startswith(s)), target)
    shown = bare if target.startswith("mailto:") else target
    if not label or label in (target, bare):
        return label or shown
    return f"{label} ({shown})"


def typed(slack_text: str) -> str:
    text = slack_text
    while (plain := MARKUP.sub(_as_typed, text)) != text:
        text = plain
    return ENTITY.sub(lambda match: ENTITIES[match[1]], text)


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rewrite(table: str, key: str, column: str, change: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = sa.table(table, sa.column(key), sa.column(column, sa.Text))
    holding = sa.or_(*(rows.c[column].contains(c, autoescape=True) for c in "&<>"))
    last = None
    while True:
        query = sa.select(rows.c[key], rows.c[column]).where(holding).order_by(rows.c[key])
        if last is not None:
            query = query.where(rows.c[key] > last)
        found = connection.execute(query.limit(BATCH)).all()
        if not found:
            return
        changed = [
            {"row_key": row_key, "text": new}
            for row_key, text in found
            if (new := change(text)) != text
        ]
        if changed:
            connection.execute(
                rows.update()
                .where(rows.c[key] == sa.bindparam("row_key"))
                .values({column: sa.bindparam("text")}),
                changed,
            )
        last = found[-1][0]


def _normalised(text: str) -> str:
    """bot.knowledge.normalise_wording as it stands at this revision."""
    return " ".join(text.lower().split()).strip(string.punctuation + "“”‘’¿¡…" + " ")


def _rewrite_wordings() -> None:
    connection = op.get_bind()
    learned = sa.table(
        "learned_question",
        sa.column("id"),
        sa.column("team_id"),
        sa.column("slug"),
        sa.column("wording", sa.Text),
    )
    holding = sa.or_(*(learned.c.wording.contains(c, autoescape=True) for c in "&<>"))
    found = connection.execute(
        sa.select(learned.c.id, learned.c.team_id, learned.c.slug, learned.c.wording).where(
            holding
        )
    ).all()
    for row_id, team, slug, wording in found:
        new = _normalised(typed(wording))
        if new == wording:
            continue
        taken = connection.execute(
            sa.select(learned.c.id).where(
                learned.c.team_id == team, learned.c.slug == slug, learned.c.wording == new
            )
        ).first()
        if taken is not None or not new:
            connection.execute(learned.delete().where(learned.c.id == row_id))
        else:
            connection.execute(
                learned.update().where(learned.c.id == row_id).values(wording=new)
            )


def upgrade() -> None:
    for table, key, column in TYPED_COLUMNS:
        _rewrite(table, key, column, typed)
    _rewrite_wordings()
    schedules = sa.table("lesson_schedule", sa.column("status_reason", sa.Text))
    op.get_bind().execute(
        schedules.update()
        .where(schedules.c.status_reason.like("paused by <@%>"))
        .values(status_reason="paused by a community manager")
    )


def downgrade() -> None:
    for table, key, column in TYPED_COLUMNS:
        _rewrite(table, key, column, escaped)
