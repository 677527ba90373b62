"""What content must fit, shared by every content kind: the shape of keys and user IDs, and
the limits of the Slack surfaces and columns content ends up in."""

from __future__ import annotations

import re

from store.base import KEY_LENGTH, SLUG_LENGTH

# Re-exported: content keys are kept in columns of these lengths.
__all__ = ["KEY_LENGTH", "SLUG_LENGTH"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
#: Slack shows at most 150 characters in a header block.
TITLE_LIMIT = 150
#: Where content ends up, and the hard limit there:
#: - a content key (a topic's key, a learning path's or a lesson's id, a badge's id) is kept
#:   in columns of KEY_LENGTH (64) characters, and a topic key or path id is also an option's
#:   value in a form's menu, which Slack takes up to 150 characters long; an entry's slug (its
#:   file name) is kept in columns of SLUG_LENGTH (120) and rides in button values (2,000);
#: - a menu offers at most 100 options, so the 101st topic or path could never be chosen;
#: - an entry's answer and its other wordings are the initial text of the Edit form's inputs,
#:   which take at most 3,000 characters (more would be cut off when someone edits it);
#: - a lesson's link is a link button's URL: at most 3,000 characters.
#: Titles (headers: 150), quiz options (buttons: 75) have their own limits below and in
#: bot/content/lesson_paths.py.
MENU_LIMIT = 100
FORM_TEXT_LIMIT = 3000
URL_LIMIT = 3000

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
#: People write the channel's name; Slack needs its ID, and this says where to find it.
CHANNEL_HINT = (
    "a channel ID like C012AB3CD, not `{value}` "
    "(in Slack: open the channel's details, the ID is at the bottom)"
)
