"""The ALTER reader's tokenizer, and the cursor that reads a clause token by token.

The tokenizer knows strings with both escape styles, backtick identifiers, the three comment
styles and parenthesis depth, so the readers above it never run a regular expression over
the raw text (see :mod:`.alter`).
"""

from __future__ import annotations

import dataclasses

from ..errors import UnsupportedAlterError

_WORD = "word"
_IDENT = "ident"  # a backtick-quoted identifier; the value is unquoted
_STRING = "string"  # '...' or "..."; the value is the raw text with its quotes
_PUNCT = "punct"


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    start: int
    end: int
    depth: int  # parenthesis depth the token sits at; a '(' or ')' has the outer depth

    @property
    def word(self) -> str:
        """The upper-cased keyword, or "" for anything that is not a bare word."""
        return self.value.upper() if self.kind == _WORD else ""

    def is_punct(self, char: str) -> bool:
        return self.kind == _PUNCT and self.value == char


def _is_word_char(char: str) -> bool:
    # Unquoted MySQL identifiers: ASCII letters, digits, '$', '_' and any non-ASCII letter.
    return char.isalnum() or char in "_$" or ord(char) >= 0x80


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#" or (
            # MySQL only treats "--" as a comment when a space or control character follows.
            text.startswith("--", i) and (i + 2 == n or text[i + 2].isspace() or text[i + 2] < " ")
        ):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            if text.startswith(("/*!", "/*M!"), i):
                raise UnsupportedAlterError(
                    "The ALTER contains an executable comment (/*! ... */), whose content the "
                    "server runs; write its content as plain SQL or remove it."
                )
            close = text.find("*/", i + 2)
            if close < 0:
                raise UnsupportedAlterError(
                    "The ALTER has a /* comment that is never closed; add the closing */."
                )
            i = close + 2
        elif char in "'\"":
            end = _string_end(text, i)
            tokens.append(Token(_STRING, text[i:end], i, end, depth))
            i = end
        elif char == "`":
            end, name = _backtick_end(text, i)
            tokens.append(Token(_IDENT, name, i, end, depth))
            i = end
        elif _is_word_char(char):
            end = i + 1
            while end < n and _is_word_char(text[end]):
                end += 1
            tokens.append(Token(_WORD, text[i:end], i, end, depth))
            i = end
        else:
            if char == ")":
                depth -= 1
                if depth < 0:
                    raise UnsupportedAlterError(
                        f"The ALTER has a ')' without a matching '(' at offset {i}; "
                        "fix the parentheses."
                    )
            tokens.append(Token(_PUNCT, char, i, i + 1, depth))
            if char == "(":
                depth += 1
            i += 1
    if depth:
        raise UnsupportedAlterError(f"The ALTER has {depth} unclosed '('; fix the parentheses.")
    return tokens


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
        elif char == quote:
            if text.startswith(quote, i + 1):  # a doubled quote stands for one quote
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise UnsupportedAlterError(
        f"The ALTER has a string starting at offset {start} ({text[start : start + 20]!r}) "
        f"that is never closed; add the closing {quote}."
    )


def _backtick_end(text: str, start: int) -> tuple[int, str]:
    i = start + 1
    while True:
        close = text.find("`", i)
        if close < 0:
            raise UnsupportedAlterError(
                f"The ALTER has a `quoted identifier starting at offset {start} that is "
                "never closed; add the closing backtick."
            )
        if text.startswith("`", close + 1):  # a doubled backtick stands for one backtick
            i = close + 2
            continue
        return close + 1, text[start + 1 : close].replace("``", "`")


class Cursor:
    """Reads one clause (or statement header) token by token."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.word if token else ""

    def accept(self, *words: str) -> bool:
        """Consume the given keywords if they come next, in that order."""
        if all(self.word(k) == word for k, word in enumerate(words)):
            self.pos += len(words)
            return True
        return False

    def accept_punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.is_punct(char):
            self.pos += 1
            return True
        return False

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def identifier(self, what: str, clause: str) -> str:
        token = self.peek()
        if token is None or token.kind not in (_WORD, _IDENT):
            raise UnsupportedAlterError(
                f"Expected {what} in {clause!r}; write it as a plain or `quoted` name."
            )
        self.pos += 1
        return token.value
