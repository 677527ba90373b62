"""Small talk in a DM to Eddy or an @Eddy mention ("hi", "thanks!", "thank you, Eddy"): a
short friendly reply rather than a failed search. What counts as small talk, and what Eddy
says, is `content/small_talk.yml`, for a community manager to tune:

    reply = small_talk(folder, "Thanks so much, Eddy! :pray:")   # "You're welcome! …"
    small_talk(folder, "thanks, and where is the VPN guide?")    # None: a question

Only a message made entirely of the file's phrases (after its `ignore` words, punctuation and
emoji are set aside) is small talk: anything more is a question, and is searched. The file is
read again when it changes; a broken file keeps its last good version in this process (and
`content check` names the problem with its line).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from bot.content.problems import Problem, yaml_problem
from bot.content.yaml_text import load_yaml

log = logging.getLogger(__name__)

SMALL_TALK_FILE = "small_talk.yml"
#: Slack's emoji codes (`:wave:`, `:+1::skin-tone-2:`) and mentions are not words.
EMOJI_OR_MENTION = re.compile(r":[a-z0-9_+\-']+:|<[@!#][^>]*>", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
#: A longer message is never small talk (and is not worth splitting into words).
LONGEST = 200

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _ReplyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Text
    phrases: list[Text]
    reply: Text


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ignore: list[Text] = []
    replies: list[_ReplyModel] = []


@dataclass(frozen=True)
class SmallTalk:
    """The phrases (as words) and the reply each one gets."""

    ignore: frozenset[str]
    replies: dict[tuple[str, ...], str]

    def reply(self, text: str) -> str | None:
        """The reply when `text` is only small talk, else None."""
        if len(text) > LONGEST:
            return None
        words = [w for w in words_of(EMOJI_OR_MENTION.sub(" ", text)) if w not in self.ignore]
        longest = max((len(phrase) for phrase in self.replies), default=0)
        first: str | None = None
        at = 0
        while at < len(words):
            for size in range(min(longest, len(words) - at), 0, -1):
                found = self.replies.get(tuple(words[at : at + size]))
                if found is not None:
                    first = first or found
                    at += size
                    break
            else:
                return None
        return first


def words_of(text: str) -> list[str]:
    return WORD.findall(text.casefold().replace("\u2019", "'"))


def load_small_talk(folder: Path) -> tuple[SmallTalk | None, list[Problem]]:
    """The file's small talk (None when there is no file or it cannot be used), and its
    problems."""
    path = folder / SMALL_TALK_FILE
    if not path.is_file():
        return None, []
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        return None, [yaml_problem(path, error)]
    except UnicodeDecodeError:
        return None, [Problem(path, 1, "not UTF-8 text")]
    try:
        model = _FileModel.model_validate(data)
    except ValidationError as error:
        return None, [
            Problem(path, 1, f"{'.'.join(map(str, e['loc'])) or 'the file'}: {e['msg']}")
            for e in error.errors()
        ]
    replies: dict[tuple[str, ...], str] = {}
    for item in model.replies:
        for phrase in item.phrases:
            words = tuple(words_of(phrase))
            if words:
                replies.setdefault(words, item.reply)
    return SmallTalk(frozenset(w for i in model.ignore for w in words_of(i)), replies), []


_cache: dict[Path, tuple[tuple[int, int] | None, SmallTalk | None]] = {}
_lock = threading.Lock()


def small_talk(folder: Path, text: str) -> str | None:
    """Eddy's reply when `text` (typed text) is only small talk; None when it is a question."""
    current = _current(folder)
    return current.reply(text) if current is not None else None


def _current(folder: Path) -> SmallTalk | None:
    path = folder / SMALL_TALK_FILE
    try:
        stat = path.stat()
        signature: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        signature = None
    with _lock:
        cached = _cache.get(folder)
        if cached is not None and cached[0] == signature:
            return cached[1]
        loaded, problems = load_small_talk(folder)
        for problem in problems:
            log.warning("Content problem: %s", problem)
        if problems and cached is not None:
            loaded = cached[1]  # keep the last good version until the file is fixed
        _cache[folder] = (signature, loaded)
        return loaded
