"""A JSON object read from a file a piece at a time, its long lists handed over element by element.

`json.load` holds the whole text and every decoded element at once: 1.5 GB for a 3,000-garage
network whose problem needs a fraction of that. Here the text is decoded a megabyte at a time
with the standard library's own scanner, so what is accepted, and how, is exactly `json`'s
(NaN and Infinity included: the parser refuses them where a number is read).
"""

from __future__ import annotations

import codecs
import json
import re
from typing import IO, Any

CHUNK = 1 << 20
# An element shorter than this is always whole in the buffer, so the common path never re-reads.
MARGIN = 1 << 16
_SPACE = re.compile(r"[ \t\n\r]*").match
_DECODER = json.JSONDecoder()
_scan = _DECODER.scan_once


class NotJSON(ValueError):
    """The text is not JSON; the message says what was expected and where (a character offset)."""


class _Text:
    """A window on the file's text that slides forward as values are read."""

    def __init__(self, file: IO[bytes]):
        self.file = file
        self.decode = codecs.getincrementaldecoder("utf-8-sig")().decode  # a leading BOM (Windows editors) is no text
        self.buf = ""
        self.pos = 0
        self.offset = 0  # characters before the window, for error positions
        self.done = False

    def more(self, at_least: int = CHUNK) -> bool:
        """Append the next piece of the file to the window; False at the end of the file."""
        if self.done:
            return False
        data = self.file.read(max(CHUNK, at_least))
        text = self.decode(data, final=not data)
        self.done = not data
        self.offset += self.pos
        self.buf = self.buf[self.pos:] + text
        self.pos = 0
        return True

    def fail(self, why: str, at: int | None = None) -> NotJSON:
        return NotJSON(f"{why} at character {self.offset + (self.pos if at is None else at)}")

    def peek(self) -> str:
        """The next character that is not white space ('' at the end), the cursor on it."""
        while True:
            pos = _SPACE(self.buf, self.pos).end()
            self.pos = pos
            if pos < len(self.buf):
                return self.buf[pos]
            if not self.more():
                return ""

    def expect(self, char: str, why: str) -> None:
        if self.peek() != char:
            raise self.fail(why)
        self.pos += 1

    def value(self) -> Any:
        """One JSON value at the cursor, reading more of the file until it is whole."""
        self.peek()
        while True:
            try:
                value, end = _scan(self.buf, self.pos)
            except StopIteration as stop:
                if self.more(len(self.buf) - self.pos):
                    continue
                raise self.fail("Expecting value", stop.value) from None
            except json.JSONDecodeError as exc:
                if self.more(len(self.buf) - self.pos):
                    continue
                raise self.fail(exc.msg, exc.pos) from None
            if end == len(self.buf) and self.more():
                continue  # a number cut by the window may go on
            self.pos = end
            return value

    def elements(self, reading: Reading) -> None:
        """Each element of the array whose '[' was just read, handed over as soon as it is read."""
        if self.peek() == "]":
            self.pos += 1
            return
        quick = reading.pattern.match if reading.pattern is not None else None
        matched, element = reading.matched, reading.element
        boundary = reading.boundary
        refused = -1  # the end of the text `batch` last refused: read one by one up to there
        while True:
            if len(self.buf) - self.pos <= MARGIN:
                self.more()
            if self.done and self.pos >= len(self.buf):
                raise self.fail("Expecting value")
            # The hot loop works on locals; the window moves only between its rounds.
            buf, pos = self.buf, self.pos
            limit = len(buf) if self.done else len(buf) - MARGIN
            if boundary is not None and self.offset + pos >= refused:
                # Most of the window in one go: up to the last element that ends before the limit
                # and before the first ']' (the array's end, unless an element holds one). A cut in
                # the wrong place (inside a string or a nested value, or past the array's end) is
                # not valid JSON, so `batch` refuses it and the elements are read one by one below.
                end = buf.find("]", pos, limit)
                if end < 0:
                    end = limit
                cut = None
                for found in boundary.finditer(buf, max(pos, end - MARGIN), end):
                    cut = found.end()
                if cut is None:
                    pass
                elif not reading.batch(buf[pos:cut]):
                    refused = self.offset + cut
                else:
                    pos = cut
                    if buf.startswith(", ", pos):
                        pos += 2
                    else:
                        self.pos = pos
                        if self._after_element():
                            return
                        continue
            while pos < limit:
                match = quick(buf, pos) if quick is not None else None
                if match is not None and matched(match):
                    pos = match.end()
                else:
                    pos = _SPACE(buf, pos).end()
                    try:
                        value, end = _scan(buf, pos)
                        whole = end < len(buf)  # something follows it, so the window did not cut it
                    except (StopIteration, json.JSONDecodeError):
                        whole = False
                    if not whole:
                        self.pos = pos
                        element(self.value())  # reads on until whole, or says what is wrong
                        if self._after_element():
                            return
                        break
                    pos = end
                    element(value)
                if buf.startswith(", ", pos):
                    pos += 2
                    continue
                self.pos = pos
                if self._after_element():
                    return
                break
            else:
                self.pos = pos

    def _after_element(self) -> bool:
        """Past the separator after an element: True at the array's end."""
        char = self.peek()
        self.pos += 1
        if char == "]":
            return True
        if char != ",":
            self.pos -= 1
            raise self.fail("Expecting ',' delimiter")
        return False


class Reading:
    """What to do with each element of a streamed array.

    `pattern`, when given, matches the usual spelling of an element (a regular expression ending
    on its closing bracket); `matched` takes such a match and returns False to have the element
    decoded as JSON and given to `element` instead. Both must mean the same element.
    """

    pattern: re.Pattern | None = None
    # When given: where an element ends with a comma after it (searched in the window's last part).
    # `batch` then gets the text of many whole elements at once, joined by their commas, and
    # returns False to have them read one by one instead (it must then have taken none of them).
    boundary: re.Pattern | None = None

    def element(self, value: Any) -> None:
        raise NotImplementedError

    def matched(self, match: re.Match) -> bool:
        return False

    def batch(self, text: str) -> bool:
        return False


def read_object(file: IO[bytes], streamed: dict[str, Reading]) -> tuple[Any, set[str], set[str]]:
    """The top-level value of a JSON file.

    For a key of `streamed` whose value is an array, each element goes to its Reading instead of into the result. Returns (the value without those keys, the keys streamed, the
    keys that appear more than once).
    """
    text = _Text(file)
    if text.peek() != "{":
        value = text.value()
        _end(text)
        return value, set(), set()
    text.pos += 1
    doc: dict[str, Any] = {}
    done: set[str] = set()
    twice: set[str] = set()
    if text.peek() == "}":
        text.pos += 1
        _end(text)
        return doc, done, twice
    while True:
        if text.peek() != '"':
            raise text.fail("Expecting property name enclosed in double quotes")
        key = text.value()
        text.expect(":", "Expecting ':' delimiter")
        if key in doc or key in done:
            twice.add(key)
        if key in streamed and text.peek() == "[":
            text.pos += 1
            doc.pop(key, None)
            done.add(key)
            text.elements(streamed[key])
        else:
            doc[key] = text.value()
            done.discard(key)
        char = text.peek()
        text.pos += 1
        if char == "}":
            break
        if char != ",":
            text.pos -= 1
            raise text.fail("Expecting ',' delimiter")
    _end(text)
    return doc, done, twice


def _end(text: _Text) -> None:
    if text.peek() != "":
        raise text.fail("Extra data")
