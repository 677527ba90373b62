"""What each person's Home tab was last showing: its tab, its pages, its period.

Kept in the database rather than in the process, so that a Home tab redrawn by another Eddy
instance (after a reaction, an approval) stays on the page its reader was looking at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, Session, col, select

from store.base import TeamKeyed, insert_for, utc_field


class HomeState(TeamKeyed, table=True):
    __tablename__ = "home_state"

    user_id: str = Field(max_length=32, primary_key=True)
    #: {"tab": …, "pages": {section: page}, "days": …}; see bot/home.py.
    state: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    #: When Eddy last drew this person's Home tab.
    shown_at: datetime = utc_field(index=True)


def state_of(session: Session, *, team_id: str, user_id: str) -> dict[str, Any] | None:
    row = session.get(HomeState, (team_id, user_id))
    return dict(row.state) if row is not None else None


def save_state(
    session: Session, *, team_id: str, user_id: str, state: dict[str, Any], at: datetime
) -> None:
    statement = insert_for(session)(HomeState).values(
        team_id=team_id, user_id=user_id, state=state, shown_at=at
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "user_id"], set_={"state": state, "shown_at": at}
        )
    )


def readers(
    session: Session, *, team_id: str, user_ids: Iterable[str], since: datetime
) -> list[str]:
    """Which of `user_ids` had their Home tab drawn at or after `since`."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return []
    query = select(HomeState.user_id).where(
        HomeState.team_id == team_id,
        col(HomeState.user_id).in_(wanted),
        HomeState.shown_at >= since,
    )
    return list(session.exec(query))
