"""What every part of a running Eddy shares: settings, the store, the clock, the worker pool.

Built once by `app.py` (or a test fixture) and handed to the app factory and the scheduler;
nothing in Eddy reaches for globals.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.clock import Clock, ManualClock, SystemClock
from bot.people import People
from bot.settings import Settings
from store import Store

if TYPE_CHECKING:
    from bot.assignments import AssignmentSlack
    from bot.content.catalogue import Catalogue
    from bot.lessons import LessonPoster
    from bot.privacy import ExportTurn

log = logging.getLogger(__name__)


class WorkPool(ThreadPoolExecutor):
    """A thread pool that knows when it is idle, with a second lane for work after an ack.

    Bolt runs listeners here, and a request returns to Slack as soon as its listener acks. A
    listener that then has slow work to do (a search, a logged question, an answer to send)
    hands it to `after_ack`: a lane of its own, so that the next requests' listeners never
    queue behind answers and their acks stay prompt under load. `wait_idle()` covers both
    lanes: it lets the sandbox show Eddy's reply before the next prompt and lets a SIGTERM
    drain in-flight work before the process exits.
    """

    def __init__(self, max_workers: int = 16, after_ack_workers: int = 4) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="eddy-work")
        # Few threads: this work is mostly CPU, on a few cores, under one GIL; more would only
        # take turns with the listeners that ack.
        self._after_ack = ThreadPoolExecutor(
            max_workers=after_ack_workers, thread_name_prefix="eddy-answer"
        )
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._counted(super().submit, fn, *args, **kwargs)

    def after_ack(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn` in the lane for work that follows an ack (see the class docstring)."""
        return self._counted(self._after_ack.submit, fn, *args, **kwargs)

    def _counted(
        self, submit: Callable[..., Future[Any]], fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Future[Any]:
        with self._idle:
            self._pending += 1
        try:
            future = submit(fn, *args, **kwargs)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(lambda _: self._done())
        return future

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no work is pending (work may submit more work); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        self._after_ack.shutdown(wait=wait, cancel_futures=cancel_futures)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    clock: Clock = field(default_factory=SystemClock)
    work: WorkPool = field(default_factory=WorkPool)
    #: The Slack workspace this Eddy serves (from auth.test, set when the app is built).
    team_id: str = ""
    #: The content Eddy serves: knowledge, topics, paths, badge rules (set when the app is
    #: built, once team_id is known).
    opened_catalogue: Catalogue | None = None
    #: How lesson messages reach Slack (set by the app factory; None: nothing can be sent).
    lesson_poster: LessonPoster | None = None
    #: How assignments reach Slack: groups' and channels' members, people, telling them
    #: (set by the app factory; None: nobody can be reached).
    assignment_slack: AssignmentSlack | None = None
    #: Who delivers each kind of notice (see `notify`), by notice type.
    listeners: dict[type, Callable[[Any], None]] = field(default_factory=dict)
    #: The people Eddy met lately (time zone, bot or not), so Slack is not asked every time.
    people: People = field(default_factory=People)
    #: Each person's latest data export from Slack (`/learn me export` once per few
    #: minutes: bot/privacy.py's ExportTurn).
    exports_sent: dict[str, ExportTurn] = field(default_factory=dict)

    @property
    def catalogue(self) -> Catalogue:
        if self.opened_catalogue is None:
            raise RuntimeError("the content catalogue is opened by create_app()")
        return self.opened_catalogue

    def is_manager(self, user_id: str) -> bool:
        """A community manager: named in EDDY_MANAGERS, or a workspace admin or owner when
        EDDY_ADMINS_ARE_MANAGERS is on (as Slack said when the app last looked them up; the
        app looks up whoever acts before handling their request)."""
        if self.settings.is_manager(user_id):
            return True
        if not self.settings.eddy_admins_are_managers:
            return False
        person = self.people.known(user_id)
        return person is not None and person.is_admin

    def listen(self, kind: type, deliver: Callable[[Any], None]) -> None:
        """Have `deliver` tell people about notices of type `kind` (handlers register them)."""
        self.listeners[kind] = deliver

    def notify(self, notice: object) -> None:
        """Hand over what people must be told (an escalation, a paused schedule): the
        handlers send it through Slack, so that bot/ never builds messages."""
        deliver = self.listeners.get(type(notice))
        if deliver is None:
            # A command line run (an import) changes what Home tabs show, and the next time
            # someone opens theirs it is drawn afresh: nobody is owed that notice.
            level = logging.DEBUG if isinstance(notice, HomeChanged) else logging.WARNING
            log.log(level, "No Slack connection to deliver %r", notice)
            return
        deliver(notice)

    def close(self) -> None:
        self.work.wait_idle()
        self.work.shutdown(wait=True)
        if self.opened_catalogue is not None:  # stops the search index's training process
            self.opened_catalogue.index.close()
        self.store.close()


@dataclass(frozen=True)
class HomeChanged:
    """Something these people's Home tabs show has changed (handed to `Runtime.notify`);
    `managers` also redraws the community managers' consoles."""

    users: tuple[str, ...] = ()
    managers: bool = False


def clock_for(settings: Settings) -> Clock:
    """The real time, or a clock pinned at `EDDY_CLOCK` when that is set (tests, benchmarks
    and demonstrations run Eddy on an instant of their choosing, whatever the date)."""
    if settings.eddy_clock is not None:
        return ManualClock(settings.eddy_clock)
    return SystemClock()


def open_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Connect to the database, bring it up to date (Alembic), and build the runtime."""
    store = Store.connect(settings.database_url)
    store.upgrade()
    return Runtime(settings=settings, store=store, clock=clock or clock_for(settings))
