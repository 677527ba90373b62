"""Text as bot/ receives and returns it, and store/ keeps it: what people typed, without
control characters (the forms text takes at each layer are set out in handlers/blocks.py).

The cleaning belongs to store/, which applies it to everything written, whatever path it came
by; handlers clean what they take in with the same function, through here, so that what Eddy
shows at once is what it keeps.
"""

from store.text import clean_text

__all__ = ["clean_text", "plural"]


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`count` and the noun it counts, in the number the count asks for: "1 expert",
    "2 experts", "0 entries", "1,200 statements" (given `many` for the nouns that do not just
    take an "s").

    Everything people read counts with this, never with "expert(s)", which reads as a form
    field, not a sentence."""
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"
