"""Text as bot/ receives and returns it, and store/ keeps it: what people typed, without
control characters (the forms text takes at each layer are set out in handlers/blocks.py).

The cleaning belongs to store/, which applies it to everything written, whatever path it came
by; handlers clean what they take in with the same function, through here, so that what Eddy
shows at once is what it keeps.
"""

from store.text import clean_text

__all__ = ["clean_text"]
