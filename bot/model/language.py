"""Guessing a resident's language from what they type, until they choose one."""

from __future__ import annotations

import re

from bot.model.residents import Language

_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
# Frequent romanized-Hindi words: enough of them in a message means Hindi is the safer reply.
_HINGLISH_WORDS = frozenset(
    """
    hai hain kya kitna kitne kitni mera meri mere mujhe muje hamara apna aap aapka karo karna
    karen kijiye batao bataiye bhejo chahiye nahi nahin haan han ji bijli bijlee bijali paani
    pani jama bharna bhugtan kab tak ka ki ke ko se mein me namaste namaskar dhanyavad shukriya
    theek thik accha acha kaise wala wali hoga raha rahi
    """.split()
)


def detect_language(text: str) -> Language | None:
    """Hindi for Devanagari or clearly romanized Hindi, English for plain English sentences,
    None when the text says too little (a number, an id, a single word like "ok")."""
    if _DEVANAGARI.search(text):
        return Language.HI
    if text.lstrip().startswith("/"):  # a button payload
        return None
    # Tokens with digits, dots or underscores are ids and numbers, not words.
    words = [w for w in text.lower().split() if re.fullmatch(r"[a-z]+[?!,]?", w)]
    if len(words) < 2:
        return None
    hindi = sum(word in _HINGLISH_WORDS for word in words)
    if hindi >= 1 and hindi * 3 >= len(words):
        return Language.HI
    return Language.EN if hindi == 0 else None
