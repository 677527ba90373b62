"""What Eddy keeps about one person, and erasing it (`app.py export user`, `forget user`).

The `erasure` table records that an erasure happened and what it touched, without naming
whom: a privacy officer can show that requests were carried out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from store.base import TeamScoped, utc_field


class Erasure(TeamScoped, table=True):
    __tablename__ = "erasure"

    id: int | None = Field(default=None, primary_key=True)
    erased_at: datetime = utc_field()
    #: Rows deleted and rows anonymised, by table: {"question_log": {"anonymised": 12}, …}.
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    #: Statements already sent to the LRS that were queued for voiding.
    voided: int = 0
