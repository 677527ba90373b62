"""Is a message posted in a help channel (#it-help, #ask-hr…) a question Eddy should try to
answer? Eddy listens in help channels and answers without being mentioned, so it must stay quiet
for everything else people post there: thanks, greetings, "lunch?", announcements, status
reports, complaints, jokes, "+1", answers to someone else. A wrong reply in a busy channel
costs more goodwill than a missed question (a person can still ask Eddy directly), so the rules
lean to silence when unsure: precision first, recall second.

    classify("how do I reset my VPN password?")    # Verdict(question=True, score=0.95, …)
    is_question("thanks <@U04ABCD12>! :pray:")      # False
    question_score("FYI the wifi is down")          # 0.05

Transparent rules rather than a trained model: each verdict names the rule that decided it, a
community manager can see why Eddy answered, and the rules carry over to channels and
wordings no labelled set has seen. The text is taken as Slack delivers it: code blocks, inline
code and quoted lines are set aside (a `?` in a query or someone else's question is not this
person's question), mentions, broadcasts, channel links, links and emoji codes are reduced to
words or dropped, and `&amp;`, `&lt;`, `&gt;` are undone.

A message is a question when one of its sentences is:

- a sentence that ends in `?` with at least three words ("lunch?", "anyone?", "any update?"
  are too small to be about anything Eddy knows), or
- one that opens like a question without the `?` ("how do i add a printer on mac", "where can I
  find the holiday calendar", "is there a template for…"), or
- a request for help in the first person ("I need help with…", "looking for the template…",
  "anyone know…", "I can't figure out how to…", "wondering if…").

What weighs against: invitations and offers ("who's in for lunch?", "anyone want the cake?",
"how about tacos?"), laughter or eye-rolling anywhere in the message ("lol", 😂, 🙄, "ugh",
"seriously"), a question answered in the next sentence ("Why…? Because…", a joke), and a
message that opens as an announcement ("FYI", "PSA", "Reminder:", "Heads up"), whose
"Questions?" invites replies rather than asks. Only a request for help ("does anyone know…",
"I need help…") survives those.

A question addressed to someone by mention is still a question here; the verdict lists the
mentioned user IDs so that the caller can leave such messages to the person asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

#: At or above this score a message is a question (`is_question`).
THRESHOLD = 0.5

#: What each kind of evidence scores: the larger, the surer the rules are.
SCORE_MARK_AND_OPENING = 0.95  # "how do I reset my VPN password?"
SCORE_REQUEST = 0.85  # "I need help setting up 2FA", "anyone know the extension for security"
SCORE_MARK = 0.8  # "Any idea why my Drive is not syncing?", "help! can it be restored??"
SCORE_OPENING = 0.75  # "where can I find the holiday calendar"
SCORE_NOTHING = 0.05
#: Laughter, eye-rolling or a question answered by its asker: what is left of the score.
RHETORICAL_FACTOR = 0.3
#: A message that opens as an announcement: what is left of the score.
ANNOUNCEMENT_FACTOR = 0.5

#: A `?` sentence needs this many words to be about something ("lunch?", "any update?").
FEWEST_WORDS_WITH_MARK = 3
#: A sentence without `?` needs this many words to count as opening like a question.
FEWEST_WORDS_WITHOUT_MARK = 4


@dataclass(frozen=True)
class Verdict:
    """Whether a message is a question, how sure the rules are (0–1), the rule that decided,
    and the users it mentions (`U…` IDs, in order, once each)."""

    question: bool
    score: float
    reason: str
    mentions: tuple[str, ...] = ()


def is_question(text: str) -> bool:
    """Whether Eddy should try to answer `text` (Slack message text) in a help channel."""
    return classify(text).question


def question_score(text: str) -> float:
    """How sure the rules are that `text` (Slack message text) is a question, from 0 to 1;
    a question from `THRESHOLD` up."""
    return classify(text).score


def classify(text: str) -> Verdict:
    """The verdict on `text` (Slack message text) with the rule that decided it."""
    plain, mentions = as_plain(text)
    sentences = _sentences(plain)
    score, reason = SCORE_NOTHING, "no question or request"
    short = social = asks_for_help = False
    for sentence in sentences:
        lowered = sentence.lower()
        if SOCIAL.search(lowered):
            social = True
            continue
        typed = [_words(c) for c in CLAUSE_BREAK.split(lowered)]
        clauses = [c for c in map(_leading_filler_off, typed) if c]
        if not clauses:
            continue
        requested = any(_is_request(" ".join(c)) for c in [*typed, *clauses])
        asks_for_help = asks_for_help or requested
        if _ends_with_mark(sentence):
            if sum(len(c) for c in clauses) < FEWEST_WORDS_WITH_MARK:
                short = True
                continue
            if any(_opens_like_question(c, marked=True) for c in clauses):
                found = (SCORE_MARK_AND_OPENING, "ends with '?' and opens like a question")
            elif requested:
                found = (SCORE_REQUEST, "asks for help and ends with '?'")
            else:
                found = (SCORE_MARK, "a sentence of some length ends with '?'")
        elif requested:
            found = (SCORE_REQUEST, "asks for help")
        elif any(
            len(c) >= FEWEST_WORDS_WITHOUT_MARK and _opens_like_question(c, marked=False)
            for c in clauses
        ):
            found = (SCORE_OPENING, "opens like a question (no '?')")
        else:
            continue
        if found[0] > score:
            score, reason = found
    if score == SCORE_NOTHING:
        if social:
            reason = "small talk, an invitation or an offer"
        elif short:
            reason = "too short to be about anything ('lunch?', 'anyone?')"
    elif asks_for_help:
        pass  # a request for help stands, however it is phrased around
    elif _is_rhetorical(text, plain, sentences):
        score, reason = score * RHETORICAL_FACTOR, "rhetorical or joking (" + reason + ")"
    elif ANNOUNCEMENT.match(plain.lower()):
        score, reason = score * ANNOUNCEMENT_FACTOR, "an announcement (" + reason + ")"
    return Verdict(score >= THRESHOLD, round(score, 3), reason, mentions)


def _set(words: str) -> frozenset[str]:
    """A set of words written as one string, to read like the lists they are."""
    return frozenset(words.split())


# --- Slack text to plain sentences --------------------------------------------------------------

CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]+`")
QUOTE_TO_END = re.compile(r"^[ \t]*(?:&gt;|>){3}.*", re.DOTALL | re.MULTILINE)
QUOTE_LINE = re.compile(r"^[ \t]*(?:&gt;|>).*$", re.MULTILINE)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
BROADCAST = re.compile(r"<![^>]*>")
CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
ENTITY = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
#: `:wave:`, `:+1::skin-tone-2:` (not `12:30:00`: a code has a letter).
EMOJI_CODE = re.compile(r":(?=[a-z0-9_+'\-]*[a-z])[a-z0-9_+'\-]+:", re.IGNORECASE)
EMOJI_CHAR = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
FORMATTING = re.compile(r"[*~]")
LIST_MARKER = re.compile(r"^[ \t]*(?:[-•*]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
CLAUSE_BREAK = re.compile(r"\s*[,;:—–]\s*|\s+-+\s+|\s*\.{3}\s*")
WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
TRAILING_PUNCTUATION = re.compile(r"[?!.…]+$")


def as_plain(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` without code, quotes, markup or emoji, and the users it mentions."""
    text = text.replace("\r\n", "\n").replace("\u2019", "'").replace("\u2018", "'")
    text = CODE_BLOCK.sub("\n", text)
    text = INLINE_CODE.sub(" code ", text)
    text = QUOTE_TO_END.sub("", text)
    text = QUOTE_LINE.sub("", text)
    mentions = tuple(dict.fromkeys(MENTION.findall(text)))
    text = MENTION.sub(" ", text)
    text = BROADCAST.sub(" ", text)
    text = CHANNEL.sub(lambda m: " #" + (m[1] or "channel") + " ", text)
    text = LINK.sub(lambda m: " " + (m[2] or "link") + " ", text)
    text = ENTITY.sub(lambda m: ENTITIES[m[1]], text)
    text = EMOJI_CODE.sub(" ", text)
    text = EMOJI_CHAR.sub(" ", text)
    text = FORMATTING.sub("", text)
    text = LIST_MARKER.sub("", text)
    return text, mentions


def _sentences(plain: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(plain) if s and s.strip()]


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _ends_with_mark(sentence: str) -> bool:
    end = TRAILING_PUNCTUATION.search(sentence.rstrip(" \"')]"))
    return end is not None and "?" in end[0]


#: Words before the point of a sentence: "hi all, quick question — how do I…".
FILLER = _set(
    "hi hey hello hiya yo morning afternoon evening good all team folks everyone everybody guys "
    "y'all quick question q random sorry ok okay so also and but um uh btw oh hmm please pls "
    "plz",
)
GREETINGS = _set("hi hey hello hiya")


def _leading_filler_off(words: list[str]) -> list[str]:
    """The words from the point on ("hi there, quick q: how do I…" → "how do I…")."""
    at = 0
    while at < len(words) - 1 and (
        words[at] in FILLER or (words[at] == "there" and at and words[at - 1] in GREETINGS)
    ):
        at += 1
    return words[at:]


# --- Opening like a question --------------------------------------------------------------------

AUXILIARIES = _set(
    "is are was were am do does did can could should would will shall may might must has have "
    "had isn't aren't wasn't weren't don't dont doesn't doesnt didn't didnt can't cant cannot "
    "couldn't shouldn't wouldn't won't wont hasn't haven't",
)
QUESTION_WORDS = _set("how what where why when who whom whose which")
#: A question word with its auxiliary: "what's the process", "whats the wifi password".
QUESTION_WORD_CONTRACTIONS = _set(
    "what's whats where's wheres who's whos how's hows when's why's what're who're where're "
    "how're what've who've",
)
#: "how long does…", "how to connect…", "how come I can't…".
AFTER_HOW = _set("much many long often far soon old big come to exactly")
PRONOUNS = _set(
    "i you we they he she it someone somebody anyone anybody everyone everybody u ya",
)
DETERMINERS = _set(
    "the my our your their his her its a an any some this that these those there each every no",
)
#: Auxiliaries that also start orders ("Do not reply-all", "Have a great weekend") or clipped
#: statements ("Did that already"): without a `?`, they open a question only before a pronoun.
PRONOUN_ONLY_AUXILIARIES = _set("do don't dont did have has had")
#: Idioms that look like yes/no questions and are not.
NOT_ASKING = re.compile(r"^(?:are|you) (?:you )?(?:kidding|serious|joking)\b")


def _opens_like_question(words: list[str], *, marked: bool) -> bool:
    """Whether a clause (its words, filler off) opens like a question. `marked`: the sentence
    ends with `?`, so any auxiliary before its subject will do; without it the subject must be
    a pronoun or a determiner ("is there a…", "do we have…", "can someone…")."""
    if not words or NOT_ASKING.match(" ".join(words[:3])):
        return False
    first, following = words[0], words[1:4]
    if first in QUESTION_WORD_CONTRACTIONS:
        return True
    if first in QUESTION_WORDS:
        return _question_word_opens(first, following)
    if first not in AUXILIARIES or not following:
        return False
    subject = following[0]
    if subject in {"not", "be", "been", "being"}:
        return False
    if marked:
        return True
    if first in PRONOUN_ONLY_AUXILIARIES:
        return subject in PRONOUNS
    return subject in PRONOUNS or subject in DETERMINERS


def _question_word_opens(first: str, following: list[str]) -> bool:
    """ "how do", "where can", "what time does", "which form do", "who handles", not "what a
    day", "why not", "when in doubt", "who knew", "what I need is"."""
    if not following:
        return False
    second = following[0]
    if second in AUXILIARIES:
        return True
    if first == "how":
        return second in AFTER_HOW
    if first in {"what", "which", "whose"}:
        if second in {"a", "an"} or second in PRONOUNS or second == "there":
            return False
        return any(word in AUXILIARIES for word in following[1:3]) or (
            first == "what" and _third_person_verb(second)
        )
    if first == "who":
        return _third_person_verb(second)
    return False


def _third_person_verb(word: str) -> bool:
    """ "handles", "approves", "happens" (who handles payroll): not "is", "was", "knows"."""
    return (
        len(word) > 3
        and word.endswith("s")
        and not word.endswith("ss")
        and word not in {"knows", "cares", "thinks", "guess", "says"}
    )


# --- Requests, invitations, rhetoric, announcements ---------------------------------------------

REQUESTS = tuple(
    re.compile(pattern)
    for pattern in (
        # "anyone know the extension…", "does anybody know how…", "someone here familiar with…"
        r"\b(?:any|some) ?(?:one|body)(?: here| else)? (?:know|knows|has an idea|have an idea"
        r"|familiar with)\b",
        r"(?:^|\b(?:i|we) )(?:really |urgently |just )?need (?:some |a bit of |a little |urgent "
        r"|your )?help\b",
        r"\b(?:i|we) could use (?:some |a little )?help\b",
        r"\b(?:i'd|i would|would) appreciate (?:some |any )?(?:help|advice|pointers)\b",
        r"^help (?:with|needed|please|me)\b",
        r"\b(?:please|pls|plz) (?:help|advise)\b",
        r"^(?:i'm |im |i am |we're |we are |am |currently |still )?(?:looking|searching) for\b",
        r"\b(?:can't|cant|cannot|can not|couldn't|couldnt|unable to|trying to|try to|struggling to"
        r"|need to) (?:figure|work) out (?:how|why|where|what|which|who|whether|if|when)\b",
        r"\b(?:i'd|i would|i|we'd|we) (?:like|want|wanted|need) to (?:know|find out|understand"
        r"|learn|ask) (?:how|why|where|what|which|who|whom|whether|if|when|about)\b",
        r"\b(?:i'm|im|i am|i was|i've been|just|was) wondering (?:if|whether|how|what|where|why"
        r"|who|when|which)\b",
        r"^any (?:idea|ideas|clue|tips|advice|recommendations|suggestions|pointers)\b \w",
        r"^(?:who|anyone|anybody) knows? (?:how|where|what|if|whether|why|when|who)\b",
    )
)


def _is_request(clause: str) -> bool:
    return any(pattern.search(clause) for pattern in REQUESTS)


#: Invitations, offers and small talk: "who's in for lunch?", "anyone want the leftover cake?",
#: "how are you all doing?", "how was the weekend?".
SOCIAL = re.compile(
    r"\bhow (?:are|r|is) (?:you|u|ya|y'all|everyone|everybody|things|we)"
    r"(?: all| guys| folks| doing| going| today| this morning)*\W*$"
    r"|\bhow's (?:it going|everyone|everybody|things|your (?:day|week|weekend))\W*$"
    r"|\bhow (?:was|were) (?:the|your|everyone's) (?:weekend|holidays?|break|trip|vacation|day)"
    r"\W*$"
    r"|\b(?:who's|whos|who is|anyone|anybody) (?:in|up|down|keen|free) for\b"
    r"|\bwho (?:wants|fancies|is coming|'s coming|else is coming)\b"
    r"|\b(?:anyone|anybody) (?:want|wants|fancy|fancies) (?:the|some|a|to grab|to join|leftover)\b"
    r"|^how about\b"
    r"|\b(?:wanna|want to|shall we|should we) (?:grab|get) (?:lunch|coffee|drinks|a drink|food)\b"
)
#: Laughter, eye-rolling and exasperation, as words, emoji codes and emoji.
RHETORIC_WORDS = re.compile(
    r"\b(?:lol|lmao|lmfao|rofl|jk|ha(?:ha)+h?|he(?:he)+|seriously|ugh+|ffs|smh|kidding me"
    r"|why (?:do|does|did|would|should) (?:we|they|anyone) (?:even|ever)|why even)\b"
)
RHETORIC_CODES = re.compile(
    r":(?:joy|rofl|laughing|satisfied|joy_cat|rolling_on_the_floor_laughing|face_with_rolling_eyes"
    r"|rolling_eyes|eye_?roll|unamused|triumph|weary|tired_face|angry|rage|pouting_face"
    r"|face_with_symbols_on_mouth):",
    re.IGNORECASE,
)
RHETORIC_EMOJI = re.compile(
    "[\U0001f602\U0001f923\U0001f606\U0001f644\U0001f612\U0001f624"
    "\U0001f629\U0001f62b\U0001f620\U0001f621\U0001f92c]"
)
ANSWER_OPENING = re.compile(r"^(?:because|'?cause|cuz|coz)\b", re.IGNORECASE)
ANNOUNCEMENT = re.compile(
    r"^\W*(?:fyi|psa|heads[ -]up|(?:friendly |gentle |quick )?reminder|announcement|update|note"
    r"|nb|pro tip|important|attention)\b"
)


def _is_rhetorical(text: str, plain: str, sentences: list[str]) -> bool:
    """Laughter or eye-rolling anywhere, or a question its asker answers ("Why…? Because…")."""
    if RHETORIC_CODES.search(text) or RHETORIC_EMOJI.search(text):
        return True
    if RHETORIC_WORDS.search(plain.lower()):
        return True
    return any(
        _ends_with_mark(before) and ANSWER_OPENING.match(after)
        for before, after in pairwise(sentences)
    )
