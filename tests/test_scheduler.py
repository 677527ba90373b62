"""Scheduled work: APScheduler runs the jobs in-process; the console and CLI run them once."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from apscheduler.events import EVENT_JOB_EXECUTED
from sqlalchemy import text

from bot.events import is_first_delivery
from bot.scheduler import JOBS, run_jobs, start_scheduler
from store.events import ProcessedEvent


def delivered_long_ago(runtime, event_id: str) -> None:
    is_first_delivery(runtime, team_id="T0SANDBOX", event_id=event_id, event_type="x")
    with runtime.store.session() as session:
        row = session.get(ProcessedEvent, ("T0SANDBOX", event_id))
        row.received_at = runtime.clock.now() - timedelta(days=3)
        session.add(row)


def remembered(runtime, event_id: str) -> bool:
    with runtime.store.session() as session:
        return session.get(ProcessedEvent, ("T0SANDBOX", event_id)) is not None


def test_the_scheduler_runs_every_job_when_it_starts(runtime, eddy):
    delivered_long_ago(runtime, "EvAncient")
    scheduler = start_scheduler(runtime)
    try:
        deadline = time.monotonic() + 10
        while remembered(runtime, "EvAncient") and time.monotonic() < deadline:
            time.sleep(0.05)
        jobs = {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=True)
    assert not remembered(runtime, "EvAncient")
    assert jobs == {job.name for job in JOBS}


def test_running_the_jobs_once_reports_each_result(runtime, eddy):
    delivered_long_ago(runtime, "EvOld1")
    delivered_long_ago(runtime, "EvOld2")
    runs = run_jobs(runtime, runtime.clock.now())
    assert [(run.name, run.ok, run.result) for run in runs] == [
        ("forget-old-events", True, 2),
        ("refresh-knowledge", True, "no change"),
        ("escalate-questions", True, "0 escalations"),
        ("follow-up-channel-questions", True, "0 askers offered the experts"),
        (
            "refresh-assignments",
            True,
            "0 groups and channels refreshed, 0 people reached, 0 told, 0 left",
        ),
        ("deliver-lessons", True, "0 planned, 0 sent, 0 recovered, 0 failed, 0 to retry"),
        ("remind-learners", True, "0 reminded, 0 paused, 0 settled"),
        ("remind-reviewers", True, "0 owners reminded"),
        ("record-learning-events", True, "0 recorded"),
        ("queue-lrs-statements", True, "off"),
        ("forward-to-lrs", True, "off"),
        ("forget-sent-lrs-statements", True, "off"),
    ]


def test_a_failing_job_is_logged_and_reported_not_raised(runtime, eddy, caplog):
    with runtime.store.engine.begin() as connection:
        connection.execute(text("DROP TABLE processed_event"))
    with caplog.at_level(logging.ERROR):
        runs = run_jobs(runtime, runtime.clock.now())
    assert [(run.name, run.ok) for run in runs] == [
        ("forget-old-events", False),
        ("refresh-knowledge", True),
        ("escalate-questions", True),
        ("follow-up-channel-questions", True),
        ("refresh-assignments", True),
        ("deliver-lessons", True),
        ("remind-learners", True),
        ("remind-reviewers", True),
        ("record-learning-events", True),
        ("queue-lrs-statements", True),
        ("forward-to-lrs", True),
        ("forget-sent-lrs-statements", True),
    ]
    failure = next(r for r in caplog.records if "forget-old-events failed" in r.getMessage())
    assert failure.exc_info is not None


def test_operators_read_one_line_per_job_that_did_something(runtime, eddy, caplog):
    """At INFO: a line per job that did work, named after the job; nothing for a pass that
    found nothing to do, and none of APScheduler's own lines."""
    delivered_long_ago(runtime, "EvOld3")
    with caplog.at_level(logging.INFO):
        run_jobs(runtime, runtime.clock.now())
        scheduler = start_scheduler(runtime)
        ran = threading.Semaphore(0)
        scheduler.add_listener(lambda _: ran.release(), EVENT_JOB_EXECUTED)
        try:
            assert ran.acquire(timeout=10)  # a job ran under APScheduler (the rest are quiet)
        finally:
            scheduler.shutdown(wait=True)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert lines == ["forget-old-events: 1"]
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")]
