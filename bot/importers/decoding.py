"""Text files in the encodings exports come in: UTF-8 (with or without a byte-order mark),
UTF-16 when a byte-order mark says so (Excel's "Unicode text"), and Windows-1252 as a last
resort (Excel's "CSV" on Windows), which the caller reports in a note since accents may be
off. Anything else, or a binary file, is not guessed at."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


class UndecodableError(ValueError):
    """The bytes are not text in any encoding this reader accepts."""


@dataclass(frozen=True)
class Decoded:
    text: str
    #: None for UTF-8 and UTF-16; the encoding's name when it was a last resort.
    fallback: str | None = None


def decode(data: bytes) -> Decoded:
    """The text of a file's bytes, or UndecodableError.

    >>> decode("café".encode("cp1252"))
    Decoded(text='café', fallback='Windows-1252')"""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"))
        except UnicodeDecodeError as error:
            raise UndecodableError("its UTF-16 text is damaged") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        if "\x00" in text:
            raise UndecodableError("it holds binary data, not text")
        return Decoded(text)
    if b"\x00" in data:
        raise UndecodableError("it holds binary data, not text")
    try:
        return Decoded(data.decode("cp1252"), fallback="Windows-1252")
    except UnicodeDecodeError as error:
        raise UndecodableError(
            "its text encoding is not UTF-8, UTF-16 or Windows-1252; save it as UTF-8"
        ) from error
