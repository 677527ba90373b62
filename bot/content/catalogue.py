"""The catalogue: the content Eddy serves — knowledge entries (from files and made in Slack),
the networks' topics, the learning paths and the badge rules — kept in the database, its
entries searched through one in-memory `KnowledgeIndex` per process.

Why the database sits between the files and the index: a content file that breaks keeps
serving its last good version, also after a restart, because that version is the database's
row; and several Eddy instances see the same entries and the same learned wordings.

    catalogue = Catalogue.open(runtime)   # sync the content folder, build the index
    hits = catalogue.search("vpn password expired")
    catalogue.learn(runtime, slug, "my vpn is locked", user_id="U1")
    catalogue.refresh(runtime)            # the scheduler's job: files, other instances
    catalogue.topics, catalogue.paths, catalogue.badge_rules  # as last loaded without problems
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot import xapi
from bot.content.badge_rules import (
    BADGES_FILE,
    BadgeRules,
    load_badge_rules,
    rules_from_spec,
    rules_spec,
)
from bot.content.badge_rules import merge_last_good as merge_last_good_rules
from bot.content.entries import KnowledgeEntry, knowledge_files, load_knowledge
from bot.content.lesson_paths import (
    LearningPath,
    lesson_files,
    load_paths,
    merge_last_good,
    path_from_spec,
    path_spec,
)
from bot.content.networks import EscalationTier, Topic, load_networks
from bot.content.problems import Problem
from bot.knowledge import Hit, IndexStartingError, KnowledgeIndex, normalise_wording, terms_of
from bot.runtime import Runtime
from bot.text import plural
from store import badges as badge_rows
from store import knowledge as rows
from store import lessons as path_rows
from store import networks as topic_rows

log = logging.getLogger(__name__)

#: How long a content refresh or a rated answer waits for the search classifier to retrain
#: (well under a second for a few hundred entries; about 8 s at its 1,000-entry limit). Past
#: this it carries on and the classifier catches up in the background.
TRAINING_WAIT_SECONDS = 10.0


@dataclass
class SyncReport:
    """What a pass over the content folder changed and found wrong."""

    problems: list[Problem] = field(default_factory=list)
    #: Broken files whose last good version keeps serving.
    kept: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


#: Seconds between attempts to load the content at start, when one fails.
LOAD_RETRY_PAUSES = (1.0, 2.0, 4.0)
#: How many hits past the asked-for ones a search looks at for an entry whose title or curated
#: question is the question, to put above one that a learned wording led to.
PROTECTED_DEPTH = 5
#: How close (difflib ratio of the normalised texts) a title or curated question must be to
#: the question to count as asking for it almost exactly; the same meaningful words do too
#: ("how do I reset my VPN password?" asks for "Reset your VPN password").
ALMOST_EXACTLY = 0.9
#: Not helpful votes on answers a learned wording produced that remove it.
REMOVED_AFTER = 2
#: Share of meaningful (stemmed) words two wordings must have in common to corroborate each
#: other ("reset my vpn password" and "how to reset vpn password").
ALIKE = 0.5


def curated(entry: KnowledgeEntry) -> set[str]:
    """An entry's own wordings (title and curated questions), normalised."""
    return {normalise_wording(text) for text in (entry.title, *entry.questions)}


def alike(one: str, other: str) -> bool:
    """Whether two wordings ask much the same (Jaccard of their stemmed words)."""
    a, b = set(terms_of(one)), set(terms_of(other))
    return bool(a and b) and len(a & b) / len(a | b) >= ALIKE


def shared_wordings(taught: list[rows.LearnedQuestion]) -> tuple[str, ...]:
    """The learned wordings that lead everyone to their entry, in the order learned."""
    return tuple(q.wording for q in taught if q.shared and q.removed_at is None)


def to_entry(row: Any, learned: tuple[str, ...] = ()) -> KnowledgeEntry:
    return KnowledgeEntry(
        slug=row.slug,
        title=row.title,
        body=row.body,
        questions=tuple(row.questions),
        tags=tuple(row.tags),
        topic=row.topic,
        owner=row.owner,
        reviewed=row.reviewed,
        learned=learned,
        source=row.source,
        path=Path(row.path) if row.path else None,
    )


def stored_form(entry: KnowledgeEntry, *, folder: Path) -> dict[str, Any]:
    """An entry as `store.knowledge.save_entry` takes it (its file relative to `folder`)."""
    path = None
    if entry.path is not None and entry.path.is_relative_to(folder):
        path = str(entry.path.relative_to(folder))
    return {
        "slug": entry.slug,
        "title": entry.title,
        "body": entry.body,
        "questions": list(entry.questions),
        "tags": list(entry.tags),
        "topic": entry.topic,
        "owner": entry.owner,
        "reviewed": entry.reviewed,
        "source": entry.source,
        "path": path,
    }


def file_fingerprint(entry: KnowledgeEntry) -> str:
    """What a content file said of an entry, in a few characters: an entry edited in Slack
    keeps the edit for as long as its file still says this."""
    content = {**stored_form(entry, folder=Path()), "path": None}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def topic_spec(topic: Topic) -> dict[str, Any]:
    """A topic as stored (JSON)."""
    return {
        "name": topic.name,
        "description": topic.description,
        "keywords": list(topic.keywords),
        "channel": topic.channel,
        "managers": list(topic.managers),
        "experts_per_question": topic.experts_per_question,
        "escalation": [
            {"after_hours": tier.after / timedelta(hours=1), "notify": tier.notify}
            for tier in topic.escalation
        ],
    }


def topic_from_spec(key: str, spec: dict[str, Any]) -> Topic:
    return Topic(
        key=key,
        name=spec["name"],
        description=spec.get("description") or "",
        keywords=tuple(spec.get("keywords") or ()),
        channel=spec.get("channel"),
        managers=tuple(spec.get("managers") or ()),
        experts_per_question=int(spec["experts_per_question"]),
        escalation=tuple(
            EscalationTier(timedelta(hours=tier["after_hours"]), tier["notify"])
            for tier in spec["escalation"]
        ),
    )


def sync_topics(runtime: Runtime, *, team_id: str, now: datetime) -> None:
    """Copy the good topics of networks.yml into the database; a broken topic keeps its last
    good version, a broken file keeps them all. (Its problems are reported with the
    knowledge entries', which are checked against the same file.)"""
    folder = runtime.settings.eddy_content_dir
    loaded = load_networks(folder)
    if loaded.topics is None or (loaded.problems and not loaded.topics and not loaded.broken):
        return  # no file, or unreadable: keep what the database has
    with runtime.store.session() as session:
        topic_rows.save_topics(
            session,
            team_id=team_id,
            specs={topic.key: topic_spec(topic) for topic in loaded.topics},
            keep=loaded.broken,
            at=now,
        )


def sync_paths(runtime: Runtime, *, team_id: str, now: datetime) -> list[Problem]:
    """Copy the learning paths into the database. A broken file keeps its path's last good
    version; a broken lesson keeps its last good version inside the path (see
    `merge_last_good`). Returns the paths' problems."""
    loaded = load_paths(runtime.settings.eddy_content_dir)
    with runtime.store.session() as session:
        stored = {row.key: row for row in path_rows.paths(session, team_id=team_id)}
        specs = {}
        for path in loaded.paths:
            last_good = path_from_spec(stored[path.id].spec) if path.id in stored else None
            merged = merge_last_good(path, last_good, loaded.broken_lessons.get(path.id, set()))
            specs[path.id] = path_spec(merged)
        path_rows.save_paths(
            session, team_id=team_id, specs=specs, keep=loaded.broken_paths, at=now
        )
    return loaded.problems


def sync_badge_rules(runtime: Runtime, *, team_id: str, now: datetime) -> list[Problem]:
    """Copy badges.yml into the database. A broken file (or none) keeps the last good rules; a
    broken rule or badge keeps its last good version (see `merge_last_good`). Returns the
    file's problems."""
    loaded = load_badge_rules(runtime.settings.eddy_content_dir)
    if loaded.rules is None:
        return loaded.problems
    with runtime.store.session() as session:
        row = badge_rows.stored_rules(session, team_id=team_id)
        last_good = rules_from_spec(row.spec) if row is not None else None
        merged = merge_last_good_rules(loaded.rules, last_good, loaded.broken)
        badge_rows.save_rules(session, team_id=team_id, spec=rules_spec(merged), at=now)
    return loaded.problems


def sync_content(runtime: Runtime, *, team_id: str, now: datetime) -> SyncReport:
    """Copy the content folder's good entries into the database.

    A broken file's entry stays as it was (its last good version); an entry whose file is
    gone is removed; entries made in Slack are never touched. Every problem is logged with its
    file and line. What happened before is recorded first, under the names it happened with.
    """
    xapi.record_before_change(runtime.store, team_id, now)
    folder = runtime.settings.eddy_content_dir
    if not folder.is_dir():
        # A mistyped EDDY_CONTENT_DIR must not look like "every file was deleted".
        problem = Problem(
            folder,
            0,
            "the content folder does not exist (check EDDY_CONTENT_DIR); "
            "keeping the entries from the last good load",
        )
        log.error("Content problem: %s", problem)
        return SyncReport(problems=[problem])
    sync_topics(runtime, team_id=team_id, now=now)
    loaded = load_knowledge(folder)
    report = SyncReport(
        problems=[
            *loaded.problems,
            *sync_paths(runtime, team_id=team_id, now=now),
            *sync_badge_rules(runtime, team_id=team_id, now=now),
        ]
    )
    for problem in report.problems:
        log.warning("Content problem: %s", problem)
    with runtime.store.session() as session:
        current = {row.slug: row for row in rows.entries(session, team_id=team_id)}
        for entry in loaded.entries:
            row = current.get(entry.slug)
            if row is not None and row.source != "file":
                report.problems.append(
                    Problem(
                        entry.path or folder,
                        1,
                        f"slug `{entry.slug}` is taken by an entry made in Slack; rename the file",
                    )
                )
                continue
            if row is not None and row.file_version == file_fingerprint(entry):
                continue  # edited in Slack since, and the file has not changed: the edit stands
            if row is None or to_entry(row) != entry:
                rows.save_entry(
                    session, team_id=team_id, at=now, **stored_form(entry, folder=folder)
                )
                report.saved.append(entry.slug)
        present = {entry.slug for entry in loaded.entries} | loaded.broken
        for slug, row in current.items():
            if row.source == "file" and slug not in present:
                rows.delete_entry(session, team_id=team_id, slug=slug)
                report.removed.append(slug)
                log.info("Knowledge entry %s was removed from the content folder", slug)
        report.kept = sorted(slug for slug in loaded.broken if slug in current)
    for slug in report.kept:
        log.warning("Serving the last good version of %s until its file is fixed", slug)
    return report


def content_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint of the content folder, to skip re-reading it when nothing changed."""
    files = [
        *knowledge_files(folder),
        folder / "networks.yml",
        *lesson_files(folder),
        folder / BADGES_FILE,
    ]
    signature = []
    for path in files:
        try:
            status = path.stat()  # once per file: 10,000 entries are 10,000 system calls
        except FileNotFoundError:
            continue
        if stat.S_ISREG(status.st_mode):
            signature.append((str(path), status.st_mtime_ns, status.st_size))
    return tuple(signature)


class Catalogue:
    """The loaded content, as this process serves it (reached as `runtime.catalogue`)."""

    def __init__(self, team_id: str, index: KnowledgeIndex) -> None:
        self.team_id = team_id
        self.index = index
        self.last_report = SyncReport()
        #: The subject-matter network topics, by key (as last loaded without problems).
        self.topics: dict[str, Topic] = {}
        #: The learning paths, by id (as last loaded without problems).
        self.paths: dict[str, LearningPath] = {}
        #: The reaction badge rules (as last loaded without problems; none until then).
        self.badge_rules = BadgeRules()
        self._signature: tuple[tuple[str, int, int], ...] | None = None  # never synced
        #: Wordings not shared yet: person → normalised wording → the entry it leads them to.
        self._personal: dict[str, dict[str, str]] = {}
        #: (slug, wording) of the shared wordings a manager confirmed.
        self._confirmed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        #: Set once the content was loaded and the index first built: questions get answers.
        self._loaded = threading.Event()
        #: What waits for that (questions asked during start-up), run on the work pool then.
        self._when_loaded: list[Callable[[], None]] = []
        self._waiting = threading.Lock()

    @classmethod
    def open(cls, runtime: Runtime, *, in_background: bool = False) -> Catalogue:
        """Sync the content folder into the database and build the index from it.

        `in_background` (a server starting): return at once, with the topics, paths and badge
        rules the database holds (the last good ones), and load the rest in a thread, so that
        Slack's requests are acknowledged meanwhile; questions wait (`when_loaded`). With
        10,000 entries reading the files and building the index takes seconds."""
        catalogue = cls(runtime.team_id, KnowledgeIndex())
        if not in_background:
            catalogue.refresh(runtime)
            return catalogue
        catalogue._catch_up_content(runtime)
        threading.Thread(
            target=catalogue._load, args=(runtime,), name="eddy-content-loader", daemon=True
        ).start()
        return catalogue

    def _load(self, runtime: Runtime) -> None:
        """Load in the background, trying again a few times: instances that start together
        on one database may both add the same new entries, and one of them then fails."""
        for attempt, pause in enumerate((*LOAD_RETRY_PAUSES, None), start=1):
            try:
                self.refresh(runtime)
                return
            except Exception:
                if pause is None:  # the refresh job goes on trying, once a minute
                    log.exception("Loading the content failed %d times; giving up for now", attempt)
                    return
                log.warning("Loading the content failed; trying again", exc_info=True)
                time.sleep(pause)

    @property
    def ready(self) -> bool:
        """Whether the content is loaded and the index built, so that questions get answers."""
        return self._loaded.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def when_loaded(self, runtime: Runtime, work: Callable[[], None]) -> bool:
        """Run `work` on the work pool once the content is loaded; True if it was already
        (`work` is then not run: the caller goes on)."""
        with self._waiting:
            if not self.ready:
                self._when_loaded.append(work)
                return False
        return True

    def refresh(self, runtime: Runtime, now: datetime | None = None) -> SyncReport | None:
        """Pick up changed content files and what other instances learned or saved.

        Returns the sync report when the content folder was read (it changed), else None.
        """
        now = now or runtime.clock.now()
        # Once questions are answered, this thread gives way to them: comparing 10,000 entries
        # with the database takes 0.6-0.9 s of Python each minute, and searches meanwhile
        # waited up to 0.6 s for the interpreter (bench/refresh_latency.py). Before that
        # nobody is searching.
        politely = self.index.giving_way() if self.ready else nullcontext()
        with self._lock, politely:
            report = None
            signature = content_signature(runtime.settings.eddy_content_dir)
            if signature != self._signature:
                report = sync_content(runtime, team_id=self.team_id, now=now)
                self.last_report, self._signature = report, signature
            self._catch_up(runtime)
        if not self.ready and self.index.refresh() and self.index.ready:
            with self._waiting:
                self._loaded.set()
                waiting, self._when_loaded = self._when_loaded, []
            log.info(
                "Ready for questions: %s in the search index",
                plural(len(self.index), "entry", "entries"),
            )
            for work in waiting:
                runtime.work.after_ack(work)
        self.index.settle(TRAINING_WAIT_SECONDS)
        return report

    def _catch_up_content(self, runtime: Runtime) -> None:
        """Topics, paths and badge rules as the database holds them (a few rows: quick)."""
        with runtime.store.session() as session:
            stored_topics = topic_rows.topics(session, team_id=self.team_id)
            stored_paths = path_rows.paths(session, team_id=self.team_id)
            stored_rules = badge_rows.stored_rules(session, team_id=self.team_id)
        self.topics = {row.key: topic_from_spec(row.key, row.spec) for row in stored_topics}
        self.paths = {row.key: path_from_spec(row.spec) for row in stored_paths}
        if stored_rules is not None:
            self.badge_rules = rules_from_spec(stored_rules.spec)

    def _catch_up(self, runtime: Runtime) -> None:
        self._catch_up_content(runtime)
        with runtime.store.session() as session:
            stored = rows.entries(session, team_id=self.team_id)
            learned = rows.learned_questions(session, team_id=self.team_id)
        by_slug: dict[str, list[rows.LearnedQuestion]] = {}
        for question in learned:
            by_slug.setdefault(question.slug, []).append(question)
        personal: dict[str, dict[str, str]] = {}
        confirmed: set[tuple[str, str]] = set()
        slugs = {row.slug for row in stored}
        with self.index.batch():  # the index rebuilds once, after the batch
            for row in stored:
                taught = by_slug.get(row.slug, [])
                entry = to_entry(row, shared_wordings(taught))
                current = self.index.get(row.slug)
                if current is None or replace(current, learned=()) != replace(entry, learned=()):
                    self.index.upsert(entry)
                self._take_in(row.slug, taught, personal, confirmed)
            self._personal, self._confirmed = personal, confirmed  # whole, for searches
            for entry in list(self.index.entries):
                if entry.slug not in slugs:
                    self.index.remove(entry.slug)

    def _take_in(
        self,
        slug: str,
        taught: list[rows.LearnedQuestion],
        personal: dict[str, dict[str, str]] | None = None,
        confirmed: set[tuple[str, str]] | None = None,
    ) -> None:
        """Make the index and the personal wordings say what the database says of the
        wordings learned for `slug`: the shared ones lead everyone there, the others only the
        person who taught them. Called with the catalogue's lock held."""
        personal = self._personal if personal is None else personal
        confirmed = self._confirmed if confirmed is None else confirmed
        current = self.index.get(slug)
        if current is None:
            return
        shared = shared_wordings(taught)
        for question in taught:
            mine = personal.setdefault(question.learned_from or "", {})
            pending = not question.shared and question.removed_at is None
            if pending and question.learned_from:
                mine[question.wording] = slug
            elif mine.get(question.wording) == slug:
                del mine[question.wording]
            key = (slug, question.wording)
            if question.shared and question.removed_at is None and question.confirmed_by:
                confirmed.add(key)
            else:
                confirmed.discard(key)
        if not set(current.learned) <= set(shared):  # weakened or removed: taken out
            self.index.upsert(replace(current, learned=shared))
            return
        for wording in shared:  # learned here or elsewhere: cheap to add
            if wording not in current.learned:
                self.index.learn(slug, wording)

    def search(self, question: str, limit: int = 3, *, user_id: str | None = None) -> list[Hit]:
        """The best entries for `question`, as `user_id` is answered: a wording they taught
        (not yet shared) leads them to its entry; a shared learned wording no manager confirmed
        never puts its entry above one whose title or curated question is the question."""
        if not self.ready:
            raise IndexStartingError("the content is still loading")
        key = normalise_wording(question)
        hits = self.index.search(question, limit=limit + PROTECTED_DEPTH)
        own = self._personal.get(user_id, {}).get(key) if user_id else None
        entry = self.index.get(own) if own else None
        if entry is not None:
            found = next((hit for hit in hits if hit.slug == entry.slug), None)
            top = (
                replace(found, confident=True, matched=key)
                if found is not None
                else Hit(entry.slug, entry.title, 1.0, True, key, 1.0)
            )
            hits = [top, *(hit for hit in hits if hit.slug != entry.slug)]
        elif hits and self._led_by_learning(hits[0]):
            exact = next((hit for hit in hits[1:] if self._asked_exactly(hit.slug, key)), None)
            if exact is not None:
                hits = [replace(exact, confident=True), *(h for h in hits if h is not exact)]
        return hits[:limit]

    def learned_by(self, hit: Hit, user_id: str | None = None) -> str | None:
        """The learned wording that brought `hit` (shared, or `user_id`'s own), if one did."""
        wording = normalise_wording(hit.matched)
        entry = self.index.get(hit.slug)
        if entry is None or not wording:
            return None
        if user_id and self._personal.get(user_id, {}).get(wording) == hit.slug:
            return wording
        return wording if wording in entry.learned and wording not in curated(entry) else None

    def _led_by_learning(self, hit: Hit) -> bool:
        wording = self.learned_by(hit)
        return wording is not None and (hit.slug, wording) not in self._confirmed

    def _asked_exactly(self, slug: str, key: str) -> bool:
        entry = self.index.get(slug)
        asked = set(terms_of(key))
        return entry is not None and any(
            set(terms_of(wording)) == asked
            or SequenceMatcher(None, key, wording).ratio() >= ALMOST_EXACTLY
            for wording in curated(entry)
        )

    def get(self, slug: str) -> KnowledgeEntry | None:
        return self.index.get(slug)

    def learn(
        self,
        runtime: Runtime,
        *,
        slug: str,
        wording: str,
        user_id: str | None,
        trusted: bool = False,
    ) -> bool:
        """Remember `wording` as a way of asking for `slug`; True if new. It leads only
        `user_id` there until it is corroborated: by someone else's Helpful on that entry for
        a similar wording, or by a `trusted` source (an expert's answer or a draft a manager
        approved, saved to the index). Then it, and the similar wordings it corroborates,
        lead everyone there. A removed wording is not learned again."""
        normalised = normalise_wording(wording)
        entry = self.index.get(slug)
        if not normalised or entry is None or normalised in curated(entry):
            return False
        now = runtime.clock.now()
        with runtime.store.session() as session:
            new = rows.learn_question(
                session,
                team_id=self.team_id,
                slug=slug,
                wording=normalised,
                user_id=user_id,
                at=now,
                shared=trusted,
            )
            taught = rows.learned_questions(session, team_id=self.team_id, slug=slug)
            row = next(question for question in taught if question.wording == normalised)
            if row.removed_at is not None:
                return False
            similar = [
                question.id
                for question in taught
                if question.id != row.id
                and question.removed_at is None
                and (trusted or (question.learned_from or "") != (user_id or ""))
                and alike(question.wording, normalised)
            ]
            again = not new and (trusted or (row.learned_from or "") != (user_id or ""))
            corroborated = [*similar, row.id] if similar or again else []
            rows.confirm_learned(
                session,
                team_id=self.team_id,
                ids=[id for id in corroborated if id is not None],
                by=None,
                at=now,
            )
            taught = rows.learned_questions(session, team_id=self.team_id, slug=slug)
        with self._lock:
            self._take_in(slug, taught)
        return new

    def weaken(self, runtime: Runtime, *, slug: str, wording: str) -> None:
        """Not helpful on an answer `wording` produced: it stops leading everyone there (unless
        a manager confirmed it) and only those who taught it keep it; the second such vote
        removes it."""
        with runtime.store.session() as session:
            row = rows.learned_question(session, team_id=self.team_id, slug=slug, wording=wording)
            if row is None or row.id is None:
                return
            rows.weaken_learned(
                session,
                team_id=self.team_id,
                learned_id=row.id,
                unshare=row.confirmed_by is None,
                remove_at=REMOVED_AFTER,
                at=runtime.clock.now(),
            )
            taught = rows.learned_questions(session, team_id=self.team_id, slug=slug)
        with self._lock:
            self._take_in(slug, taught)

    def confirm_wording(self, runtime: Runtime, *, learned_id: int, by: str) -> str | None:
        """A manager confirms a learned wording: it leads everyone to its entry, even above one
        whose title is the question. The entry's slug, or None if the wording is gone."""
        with runtime.store.session() as session:
            row = rows.learned_by_id(session, team_id=self.team_id, learned_id=learned_id)
            if row is None or row.removed_at is not None:
                return None
            rows.confirm_learned(
                session, team_id=self.team_id, ids=[learned_id], by=by, at=runtime.clock.now()
            )
            slug = row.slug
            taught = rows.learned_questions(session, team_id=self.team_id, slug=slug)
        with self._lock:
            self._take_in(slug, taught)
        return slug

    def remove_wording(self, runtime: Runtime, *, learned_id: int, by: str) -> str | None:
        """A manager removes a learned wording for good: it leads nobody to its entry and is
        not learned again. The entry's slug, or None if it was gone already."""
        with runtime.store.session() as session:
            row = rows.remove_learned(
                session, team_id=self.team_id, learned_id=learned_id, by=by, at=runtime.clock.now()
            )
            if row is None:
                return None
            slug = row.slug
            session.flush()
            taught = rows.learned_questions(session, team_id=self.team_id, slug=slug)
        with self._lock:
            self._take_in(slug, taught)
        return slug

    def publish(
        self,
        runtime: Runtime,
        entry: KnowledgeEntry,
        *,
        wordings: list[str],
        learned_from: str | None,
        based_on: str | None = None,
    ) -> None:
        """Add or change an entry in Slack (an approved draft, a manager's edit): stored,
        searchable here at once (other instances pick it up on their next refresh), with the
        askers' wordings learned. `based_on` is the `file_fingerprint` of the content file an
        edited file entry came from. What happened before is recorded first, under the names
        it happened with."""
        now = runtime.clock.now()
        xapi.record_before_change(runtime.store, self.team_id, now)
        with runtime.store.session() as session:
            rows.save_entry(
                session,
                team_id=self.team_id,
                at=now,
                file_version=based_on,
                **stored_form(entry, folder=Path()),
            )
        with self._lock:
            self.index.upsert(entry)
        for wording in wordings:
            self.learn(
                runtime, slug=entry.slug, wording=wording, user_id=learned_from, trusted=True
            )
        self.index.settle(TRAINING_WAIT_SECONDS)

    def publish_all(
        self,
        runtime: Runtime,
        entries: list[KnowledgeEntry],
        *,
        with_them: Callable[[Session], None] | None = None,
    ) -> None:
        """Add or change many entries at once (an import): stored in one unit of work, with
        what `with_them` writes (the import's record of its pages), and the index rebuilt and
        retrained once, not once per entry."""
        if not entries:
            return
        now = runtime.clock.now()
        xapi.record_before_change(runtime.store, self.team_id, now)
        with runtime.store.session() as session:
            rows.entries(session, team_id=self.team_id)  # new ones are then added without a look-up
            for entry in entries:
                rows.save_entry(
                    session, team_id=self.team_id, at=now, **stored_form(entry, folder=Path())
                )
            if with_them is not None:
                with_them(session)
        with self._lock, self.index.batch():
            for entry in entries:
                self.index.upsert(entry)
        self.index.settle(TRAINING_WAIT_SECONDS)

    def forget(self, slug: str) -> None:
        """An entry removed from the database stops answering here at once (other instances
        drop it at their next refresh)."""
        with self._lock:
            self.index.remove(slug)

    def settle(self) -> None:
        """Wait (at most TRAINING_WAIT_SECONDS) until the search classifier has taken in every
        change so far. For work off the request path, after its reply: the worker stays busy
        until what it taught the index is fully in."""
        self.index.settle(TRAINING_WAIT_SECONDS)
