"""Finding the thing people name in a command (a topic, a learning path), typos forgiven.

match = find_by_name("pyhton", {"python": ("python", "Python")})
match.key, match.fuzzy      # ("python", True): say which one the words were taken for
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

#: rapidfuzz WRatio score (0–100) from which a name counts as meant despite typos.
NAME_MATCH_CUTOFF = 70
#: Words of a name that name nothing by themselves.
LINKING_WORDS = frozenset({"and", "or", "of", "the", "a", "an", "for", "in", "on", "to", "with"})


@dataclass(frozen=True)
class NameMatch:
    key: str
    #: The words were not one of its names exactly: say which one they were taken for.
    fuzzy: bool


def find_by_name(words: str, names: Mapping[str, Sequence[str]]) -> NameMatch | None:
    """The key whose names include `words` exactly (ignoring case and punctuation), else the
    closest within reason, else None."""
    wanted = utils.default_process(words)
    if not wanted:
        return None
    for key, spellings in names.items():
        if wanted in (utils.default_process(name) for name in spellings):
            return NameMatch(key, fuzzy=False)
    by_word = [key for key, spellings in names.items() if wanted in _short_forms(spellings)]
    if len(by_word) == 1:  # "hr" for "People and HR", "ph" for it too; never a guess between two
        return NameMatch(by_word[0], fuzzy=True)
    best = process.extractOne(
        words,
        {key: " ".join(spellings) for key, spellings in names.items()},
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=NAME_MATCH_CUTOFF,
    )
    return None if best is None else NameMatch(str(best[2]), fuzzy=True)


def _short_forms(spellings: Sequence[str]) -> set[str]:
    """What people call a thing for short: each word of its names that means something
    ("hr" in "People and HR"), and the initials of a name of several words ("ph")."""
    forms: set[str] = set()
    for spelling in spellings:
        words = [
            word for word in utils.default_process(spelling).split() if word not in LINKING_WORDS
        ]
        forms.update(words)
        if len(words) > 1:
            forms.add("".join(word[0] for word in words))
    return forms
