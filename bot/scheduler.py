"""Scheduled work: plain, idempotent functions in bot/, timed by APScheduler.

Every instance runs the same jobs in-process (memory job store); each job is safe to run on
several instances at once because it decides against the database. The console's `clock` and
the CLI run the same functions once, as the scheduler would at a given instant:

    runs = run_jobs(runtime, now)      # every job once, at `now`: [JobRun(name, ok, result)]
    scheduler = start_scheduler(runtime)
    scheduler.shutdown()
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot.assignments import refresh
from bot.events import forget_old_events
from bot.lesson_reminders import remind
from bot.lessons import deliver
from bot.listening import follow_up
from bot.lrs import forget_sent, forward, queue_new
from bot.networks import escalate
from bot.review import remind_owners
from bot.runtime import Runtime
from bot.text import plural
from bot.xapi import record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Runtime, datetime], Any]
    every: timedelta


def refresh_knowledge(runtime: Runtime, now: datetime) -> str:
    """Pick up edited content files, and what other instances learned or saved."""
    report = runtime.catalogue.refresh(runtime, now)
    if report is None:
        return "no change"
    return (
        f"{len(report.saved)} saved, {len(report.removed)} removed, "
        f"{plural(len(report.problems), 'problem')}"
    )


def escalate_questions(runtime: Runtime, now: datetime) -> str:
    """Remind the network, then the topic's managers, of questions nobody has claimed."""
    fired = escalate(runtime, now)
    return plural(len(fired), "escalation")


def follow_up_channel_questions(runtime: Runtime, now: datetime) -> str:
    """Offer the experts to askers in help channels whom nobody answered in time."""
    return f"{plural(len(follow_up(runtime, now)), 'asker')} offered the experts"


def refresh_assignments(runtime: Runtime, now: datetime) -> str:
    """List anew the members of groups and channels paths are assigned to; reach newcomers,
    and tell whoever Slack would not let Eddy tell before."""
    return refresh(runtime, now)


def deliver_lessons(runtime: Runtime, now: datetime) -> str:
    """Send the lessons due now, each (recipient, lesson, day) once."""
    report = deliver(runtime, now)
    return (
        f"{report.planned} planned, {report.sent} sent, {report.recovered} recovered, "
        f"{report.failed} failed, {report.retrying} to retry"
    )


def remind_learners(runtime: Runtime, now: datetime) -> str:
    """Remind people of lessons they left unanswered; pause lessons nobody answers."""
    return str(remind(runtime, now))


def remind_reviewers(runtime: Runtime, now: datetime) -> str:
    """DM owners whose knowledge entries are past their review date."""
    reminders = remind_owners(runtime, now)
    return f"{plural(len(reminders), 'owner')} reminded"


def record_learning(runtime: Runtime, now: datetime) -> str:
    """Keep the statements of new learning events in the ledger, named as things are now."""
    kept = record(runtime.store, runtime.team_id, now)
    return "workspace URL not known yet" if kept is None else f"{kept} recorded"


def queue_for_lrs(runtime: Runtime, now: datetime) -> str:
    """Put the statements of new learning events in the LRS outbox (when EDDY_LRS_URL is set)."""
    queued = queue_new(runtime, now)
    if queued is None:
        return "off" if not runtime.settings.forwards_to_lrs else "workspace URL not known yet"
    return f"{queued} queued"


def forward_to_lrs(runtime: Runtime, now: datetime) -> str:
    """Send the outbox's due statements to the LRS (when EDDY_LRS_URL is set)."""
    report = forward(runtime, now)
    return "off" if report is None else str(report)


def forget_sent_statements(runtime: Runtime, now: datetime) -> str:
    """Drop statements the LRS has had for a while from the outbox."""
    forgotten = forget_sent(runtime, now)
    return "off" if forgotten is None else f"{forgotten} forgotten"


#: The job that loads the content (again): the only one that runs while Eddy starts up.
REFRESH_KNOWLEDGE = "refresh-knowledge"
JOBS: tuple[Job, ...] = (
    Job("forget-old-events", forget_old_events, timedelta(hours=1)),
    Job(REFRESH_KNOWLEDGE, refresh_knowledge, timedelta(minutes=1)),
    Job("escalate-questions", escalate_questions, timedelta(minutes=1)),
    Job("follow-up-channel-questions", follow_up_channel_questions, timedelta(minutes=1)),
    Job("refresh-assignments", refresh_assignments, timedelta(minutes=10)),
    Job("deliver-lessons", deliver_lessons, timedelta(minutes=1)),
    Job("remind-learners", remind_learners, timedelta(minutes=5)),
    Job("remind-reviewers", remind_reviewers, timedelta(hours=1)),
    # After the jobs that make learning events, so that one run records, queues and sends them.
    Job("record-learning-events", record_learning, timedelta(minutes=1)),
    Job("queue-lrs-statements", queue_for_lrs, timedelta(minutes=1)),
    Job("forward-to-lrs", forward_to_lrs, timedelta(seconds=30)),
    Job("forget-sent-lrs-statements", forget_sent_statements, timedelta(hours=1)),
)


@dataclass(frozen=True)
class JobRun:
    name: str
    ok: bool
    result: Any = None


def did_something(result: Any) -> bool:
    """Whether a job's result tells of work done: a count above zero ("3 queued", 2). A pass
    that found nothing to do ("no change", "off", "0 sent, 0 to retry") did nothing."""
    if isinstance(result, bool) or result is None:
        return bool(result)
    if isinstance(result, int):
        return result > 0
    return any(int(number) > 0 for number in re.findall(r"\d+", str(result)))


def run_job(runtime: Runtime, job: Job, now: datetime) -> JobRun:
    """Run one job at `now`; a failure is logged with its traceback and does not stop others.
    A run that did something is one INFO line named after the job; one that did nothing is
    DEBUG (every minute, on every instance, it would drown what matters)."""
    if job.name != REFRESH_KNOWLEDGE and not runtime.catalogue.ready:
        # Starting up: lessons, reminders and records name paths and entries still loading.
        log.debug("%s: waiting for the content to load", job.name)
        return JobRun(job.name, ok=True, result="waiting for the content to load")
    try:
        result = job.run(runtime, now)
    except Exception:
        log.exception("Scheduled job %s failed", job.name)
        return JobRun(job.name, ok=False)
    log.log(logging.INFO if did_something(result) else logging.DEBUG, "%s: %s", job.name, result)
    return JobRun(job.name, ok=True, result=result)


def run_jobs(runtime: Runtime, now: datetime) -> list[JobRun]:
    """Run every job once, as at `now`."""
    return [run_job(runtime, job, now) for job in JOBS]


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """Run every job now and then at its interval, in this process.

    APScheduler fires on the real time, by its own clock: that is when the work happens. The
    instant each job acts as at is the runtime's clock (pinned by EDDY_CLOCK in tests), so
    the first run is due at APScheduler's "now", never at the runtime's, which may lie years
    away and be skipped as a misfire.

    APScheduler's own INFO lines (two per run: "Running job", "executed successfully") say
    nothing `run_job` does not: below DEBUG, only its warnings pass (a missed run, a job still
    running), under the job's name."""
    if not log.isEnabledFor(logging.DEBUG):
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True})
    first_run = datetime.now(UTC)
    for job in JOBS:
        scheduler.add_job(
            lambda job=job: run_job(runtime, job, runtime.clock.now()),
            trigger="interval",
            seconds=job.every.total_seconds(),
            id=job.name,
            name=job.name,
            max_instances=1,
            next_run_time=first_run,
        )
    scheduler.start()
    return scheduler
