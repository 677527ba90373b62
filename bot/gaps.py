"""Knowledge gaps: what people asked lately that the index could not answer well.

A community manager sees the questions of the last 30 days that Eddy was unsure about (or sent
to the experts) and the answers rated Not helpful, with wordings that mean the same thing
folded into one line and counted, biggest first. Once they have written the missing entry from
a line, closing it marks all of its questions as covered by that entry, and the line leaves
the list.

Only what is worth a manager's time is listed: not small talk ("thanks!", content/
small_talk.yml), slash commands typed as messages, or messages to a colleague (a mention);
and a line leaves by itself once any entry answers its wording with confidence (an entry
written or edited since, a wording learned), whoever's question it was, unless that entry is
flagged Not helpful and not reviewed since.

No Slack here: plain values in, plain results out. Questions are grouped on their text as
stored (typed text), so what a manager reads is what the asker wrote: by their words (near-
identical wordings) and by their meaning (the search's sentence embeddings, bot/meaning.py):
"vpn broken" and "can't get on the vpn" are close in meaning; "remote access login fails" is
not close to either, but all three lean on the same entry (Reset your VPN password was the
closest entry when each was asked, and each is close in meaning to its wordings), so they are
one gap: what people need around that entry and do not find in it.

    lines = gaps(runtime, now=runtime.clock.now())
    top = lines[0]              # Gap(id=…, wording="how do I reset my VPN password?", asked=12, …)
    close(runtime, question_id=top.id, slug="reset-vpn-password", now=runtime.clock.now())
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from rapidfuzz import fuzz, process, utils

from bot import meaning
from bot.content.small_talk import small_talk
from bot.knowledge import STOPWORDS, KnowledgeIndex
from bot.runtime import Runtime
from bot.stemming import stem
from store import knowledge as rows

WINDOW_DAYS = 30
MAX_QUESTIONS = 5000  # newest gap questions considered (bounded work per render)
#: Distinct wordings shown for one gap, most frequent first.
MAX_WORDINGS = 20
#: Words that say how someone asks, not what about, on top of the search's stopwords ("can
#: someone help me…", "what's the process to…").
ASKING_WORDS = frozenset({"someone", "somebody", "anyone", "anybody", "help", "process", "way"})
IGNORED_WORDS = STOPWORDS | ASKING_WORDS

# Two wordings are one gap when their meaningful words (IGNORED_WORDS removed, so "how do I",
# "how to", "my", "the" do not count), sorted, score at least SAME_GAP_SCORE: that is
# token_sort_ratio, so word order does not matter ("reset my vpn password how do I") and typos
# cost little ("rest my vpn pasword": 94). The key is sorted once, so plain ratio computes it
# without re-sorting both sides on every comparison (5x faster over 1,500 distinct wordings).
# Without the filler, a different topic word weighs what it should: "reset vpn password" ~
# "reset email password" scores 74, "book meeting room" ~ "cancel meeting room" 72, "expense
# report deadline" ~ "expense report template" 61, "vpn" ~ "reset vpn password" 29.
# token_set_ratio would score the last 100 (one wording's words are a subset of the other's),
# and WRatio 90 (it takes the best partial match), which is why neither is used.
SAME_GAP_SCORER = fuzz.ratio
SAME_GAP_SCORE = 85.0
# By meaning: two wordings are one gap when the sentence embeddings of their comparison keys
# have a cosine similarity of at least SAME_MEANING ("where do I park my bike" ~ "bike parking"
# 0.84, "vpn broken" ~ "can't get on the vpn" 0.81), set above the closest pair that is two
# gaps ("reset vpn password" ~ "reset email password" 0.71, "book meeting room" ~ "cancel
# meeting room" 0.67), and they share a word (stemmed): strings of unknown words (typing
# noise, codes) embed alike whatever they say. Or when both lean on the same entry: it was
# the closest hit when each was asked, and each is at least LEANS_ON close in meaning to one
# of its wordings.
SAME_MEANING = 0.74
LEANS_ON = 0.6


@dataclass(frozen=True)
class Gap:
    """One line of the gaps list: questions asked in near-identical words."""

    #: The question id that represents the group (its most recent question).
    id: int
    #: The representative wording: the group's most frequent wording (ties: the most recent).
    wording: str
    #: Questions in the group.
    asked: int
    #: Distinct people who asked.
    askers: int
    #: Not confident: Eddy was unsure (or the question went to the experts).
    unanswered: int
    #: Answered confidently but rated Not helpful (with `unanswered`, adds up to `asked`).
    not_helpful: int
    last_asked: datetime
    #: Distinct wordings (compared as `default_process` spells them), most frequent first, at
    #: most MAX_WORDINGS; each as it was most recently written.
    wordings: tuple[str, ...]
    #: Every question in the group, newest first.
    question_ids: tuple[int, ...]


@dataclass(frozen=True)
class _Asked:
    """The part of a logged question that grouping needs."""

    id: int
    question: str
    #: As `default_process` spells it (case and punctuation gone): what repeats are counted on.
    spelling: str
    user_id: str
    asked_at: datetime
    confident: bool
    outcome: str
    #: The entry Eddy found closest when it was asked (None: nothing came close).
    nearest: str | None


def gaps(runtime: Runtime, *, now: datetime, days: int = WINDOW_DAYS) -> list[Gap]:
    """The knowledge gaps of the last `days` days, biggest first (most questions, then most
    people, then most recent)."""
    with runtime.store.session() as session:
        found = rows.gap_questions(
            session,
            team_id=runtime.team_id,
            since=now - timedelta(days=days),
            limit=MAX_QUESTIONS,
        )
        # Rated Not helpful and not reviewed since: what it answers is still a gap.
        flagged = {
            row.slug
            for row in rows.entries(session, team_id=runtime.team_id)
            if row.flagged_at is not None
        }
    asked = [
        _Asked(
            id=row.id,
            question=row.question,
            spelling=utils.default_process(row.question),
            user_id=row.user_id,
            asked_at=row.asked_at,
            confident=row.confident,
            outcome=row.outcome,
            nearest=str(row.hits[0]["slug"]) if row.hits else None,
        )
        for row in found
        if row.id is not None and worth_a_look(runtime, row.question)
    ]
    lines = [
        gap
        for gap in map(_gap, _group(asked, runtime.catalogue.index))
        if not _answered_now(runtime, gap.wording, flagged)
    ]
    return sorted(
        lines, key=lambda gap: (gap.asked, gap.askers, gap.last_asked, gap.id), reverse=True
    )


#: A mention as typed text keeps it (`@U012ABCDEF`), or Slack's markup when one slipped in.
MENTION = re.compile(r"(?:<@|(?<![\w@])@)[UW][A-Z0-9]{2,}")


def worth_a_look(runtime: Runtime, question: str) -> bool:
    """Whether a logged question can be a gap: not small talk, not a command, not a message
    to someone else."""
    text = question.strip()
    if not text or text.startswith("/") or MENTION.search(text):
        return False
    return small_talk(runtime.settings.eddy_content_dir, text) is None


def _answered_now(runtime: Runtime, wording: str, flagged: set[str]) -> bool:
    """The index answers the wording with confidence today, with an entry nobody has rated
    Not helpful since it was last reviewed (`flagged`: an answer someone found no help is no
    answer yet). While Eddy is starting up nothing is answered yet."""
    if not runtime.catalogue.ready:
        return False
    hits = runtime.catalogue.search(wording, limit=1)
    return bool(hits) and hits[0].confident and hits[0].slug not in flagged


def close(runtime: Runtime, *, question_id: int, slug: str, now: datetime) -> int:
    """Mark every question of the gap that `question_id` belongs to as covered by the entry
    `slug`; returns how many were closed (0 when no open gap holds that question). The groups
    are computed afresh, so questions asked since the manager looked are closed with them."""
    gap = next((gap for gap in gaps(runtime, now=now) if question_id in gap.question_ids), None)
    if gap is None:
        return 0
    with runtime.store.session() as session:
        return rows.cover_questions(
            session, team_id=runtime.team_id, question_ids=gap.question_ids, slug=slug
        )


def _comparison_key(spelling: str) -> str:
    """What two wordings are compared on: the meaningful words of a `default_process`ed
    wording, sorted (all its words when none is meaningful, as in "how do I do it")."""
    words = spelling.split()
    meaningful = [word for word in words if word not in IGNORED_WORDS]
    return " ".join(sorted(meaningful or words))


def _group(asked: Sequence[_Asked], index: KnowledgeIndex) -> list[list[_Asked]]:
    """Greedy leader clustering, newest first: each wording joins the group of the first
    leader it is one gap with (in words or in meaning, see SAME_MEANING), or leads a group of
    its own. Wordings with the same comparison key are bucketed first, so repeats cost a
    dictionary lookup, not a comparison; each bucket is embedded once."""
    buckets: dict[str, list[_Asked]] = {}
    for question in asked:
        buckets.setdefault(_comparison_key(question.spelling), []).append(question)
    keys = list(buckets)
    vectors = meaning.embed(keys)
    nearest = [buckets[key][0].nearest for key in keys]
    leaning = _leaning(index, nearest, vectors)
    # The leaders so far, by position: their keys, vectors (the first rows) and words; and per
    # entry, the first leader that leans on it.
    leader_keys: list[str] = []
    leader_vectors = np.empty_like(vectors)
    leader_words: list[set[str]] = []
    anchors: dict[str, int] = {}
    groups: list[list[_Asked]] = []
    for number, key in enumerate(keys):
        words = {stem(word) for word in key.split()}
        joined = _first_alike(key, leader_keys)
        if joined is None:
            close = np.flatnonzero(leader_vectors[: len(groups)] @ vectors[number] >= SAME_MEANING)
            joined = next((int(n) for n in close if leader_words[n] & words), None)
        anchor = nearest[number] if leaning[number] else None
        if joined is None and anchor is not None:
            joined = anchors.get(anchor)
        if joined is not None:
            groups[joined].extend(buckets[key])
            continue
        if anchor is not None:
            anchors.setdefault(anchor, len(groups))
        leader_vectors[len(groups)] = vectors[number]
        leader_keys.append(key)
        leader_words.append(words)
        groups.append(list(buckets[key]))
    return groups


def _first_alike(key: str, leader_keys: list[str]) -> int | None:
    """The first leader (its position) whose key is near-identical to `key`."""
    match = process.extractOne(
        key, leader_keys, scorer=SAME_GAP_SCORER, score_cutoff=SAME_GAP_SCORE
    )
    return None if match is None else int(match[2])


def _leaning(index: KnowledgeIndex, nearest: list[str | None], vectors: np.ndarray) -> np.ndarray:
    """Per bucket, whether it is close in meaning (LEANS_ON) to the entry that was its nearest."""
    leaning = np.zeros(len(nearest), dtype=np.bool_)
    for slug in {slug for slug in nearest if slug is not None}:
        rows = [n for n, near in enumerate(nearest) if near == slug]
        leaning[rows] = index.closeness(slug, vectors[rows]) >= LEANS_ON
    return leaning


def _gap(group: Iterable[_Asked]) -> Gap:
    newest_first = sorted(
        group, key=lambda question: (question.asked_at, question.id), reverse=True
    )
    latest = newest_first[0]
    frequency = Counter(question.spelling for question in newest_first)
    as_written: dict[str, str] = {}
    for question in newest_first:
        as_written.setdefault(question.spelling, question.question)
    # Counter keeps first-seen (newest) order among equal counts, so ties go to the most recent.
    wordings = tuple(as_written[spelling] for spelling, _ in frequency.most_common(MAX_WORDINGS))
    unanswered = sum(not question.confident for question in newest_first)
    not_helpful = sum(
        question.confident and question.outcome == "not_helpful" for question in newest_first
    )
    return Gap(
        id=latest.id,
        wording=wordings[0],
        asked=len(newest_first),
        askers=len({question.user_id for question in newest_first}),
        unanswered=unanswered,
        not_helpful=not_helpful,
        last_asked=latest.asked_at,
        wordings=wordings,
        question_ids=tuple(question.id for question in newest_first),
    )
