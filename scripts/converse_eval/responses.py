"""Recognising the bot's domain responses by name in what a channel delivered.

Every text variation of a response in the Rasa domain (English, Hindi, any channel variant)
becomes a pattern: its `{placeholders}` match anything, emoji and runs of whitespace are
ignored and typography (₹, “”, …, •) folded on both sides (SMS may drop emoji, fold to
GSM-7, split a message or cut it at a space), case is ignored. A channel adds numbered options after the text, so a pattern is searched for,
not matched whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DIR = ROOT / "bot" / "dialogue" / "domain"
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
# A pattern with less literal text than this would match almost any message.
MIN_LITERAL_CHARS = 8
_SPACE = re.compile(r"\s+")
# Emoji presentation selectors, joiners and the like: invisible, and dropped by some channels.
_INVISIBLE = {"\ufe0e", "\ufe0f", "\u200d", "\u200c", "\u200b"}
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


# Typographic characters an SMS may send in plain GSM-7 instead (one of them would make an
# English SMS UCS-2): folded on both sides, so a folded SMS still shows its response.
_FOLDS = str.maketrans(
    {
        "•": "*",
        "₹": "Rs.",
        "…": "...",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "\u00a0": " ",
        "·": "-",
        "×": "x",
    }
)


def normalise(text: str) -> str:
    """The text as patterns see it: NFC, no emoji or other pictographs, typography folded
    to plain characters, single spaces."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        if char in _INVISIBLE or unicodedata.category(char) == "So":
            continue
        kept.append(char)
    return _SPACE.sub(" ", "".join(kept).translate(_FOLDS)).strip()


def pattern_of(template: str) -> re.Pattern[str] | None:
    """A response text as a regular expression, or None when it says too little to tell."""
    text = normalise(template)
    literals = PLACEHOLDER.split(text)
    if sum(len(part.strip()) for part in literals) < MIN_LITERAL_CHARS:
        return None
    body = ".*?".join(re.escape(part).replace(r"\ ", r"\s*") for part in literals)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ResponseCatalog:
    """Patterns per response name, and the titles of buttons that switch language."""

    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    language_switch_titles: frozenset[str]

    @classmethod
    def from_domain(cls, directory: Path = DOMAIN_DIR) -> ResponseCatalog:
        responses: dict[str, Any] = {}
        for path in sorted(directory.glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            responses.update(data.get("responses") or {})
        return cls.from_responses(responses)

    @classmethod
    def from_responses(
        cls, responses: Mapping[str, Iterable[Mapping[str, Any]]]
    ) -> ResponseCatalog:
        patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        switches: set[str] = set()
        for name, variations in responses.items():
            found = []
            for variation in variations:
                compiled = pattern_of(str(variation.get("text") or ""))
                if compiled is not None:
                    found.append(compiled)
                for button in variation.get("buttons") or ():
                    if str(button.get("payload", "")).startswith("/change_language"):
                        switches.add(normalise(str(button.get("title", ""))))
            patterns[name] = tuple(found)
        return cls(patterns, frozenset(title for title in switches if title))

    def knows(self, name: str) -> bool:
        """A response of the domain; "utter_confirm_payment*" stands for every response whose
        name starts so (a response split in variants keeps its checks)."""
        if name.endswith("*"):
            return any(known.startswith(name[:-1]) for known in self.patterns)
        return name in self.patterns

    def matches(self, name: str, text: str) -> bool:
        """True when `text` holds one of the texts of response `name`."""
        plain = normalise(text)
        return any(pattern.search(plain) for pattern in self.patterns.get(name, ()))

    def names_in(self, text: str) -> frozenset[str]:
        """Every response whose text appears in `text`."""
        plain = normalise(text)
        return frozenset(
            name
            for name, patterns in self.patterns.items()
            if any(pattern.search(plain) for pattern in patterns)
        )

    def without_language_switches(self, text: str) -> str:
        """`text` without the titles of buttons that offer the other language: an English
        menu may rightly say "हिंदी में बात करें"."""
        plain = normalise(text)
        for title in sorted(self.language_switch_titles, key=len, reverse=True):
            plain = plain.replace(title, " ")
        return plain


def named(item: str, responses: frozenset[str]) -> frozenset[str]:
    """Which of `item`'s names ("a|b", "prefix*") are among the recognised `responses`."""
    found: set[str] = set()
    for name in item.split("|"):
        if name.endswith("*"):
            found.update(r for r in responses if r.startswith(name[:-1]))
        elif name in responses:
            found.add(name)
    return frozenset(found)
