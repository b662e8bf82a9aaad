"""SMS through Twilio: plain, short text in as few segments as the language allows.

GSM-7 carries 160 characters in one segment (153 per segment when concatenated); a single
Devanagari character forces UCS-2, 70 characters (67 concatenated). Long texts are split at
paragraph, sentence or word boundaries into messages of at most MAX_SEGMENTS segments each,
and at most MAX_MESSAGES of those, so a Hindi reply never becomes a wall of 15 segments.
Buttons become numbered options; an attachment becomes its link.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from datetime import datetime

from bot import messages as texts
from bot.errors import DeliveryFailed, DeliveryUncertain, SmsUnavailable
from bot.model.channels import Delivery
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Language
from channels.options import numbered_text
from channels.twilio_api import TwilioMessages

log = logging.getLogger(__name__)

MAX_SEGMENTS = 3
MAX_MESSAGES = 3
ELLIPSIS = "…"

# GSM 03.38 basic set, and the extension set whose characters take two septets.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
# (characters in one segment, characters per segment when concatenated), in units
_LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


def encoding(text: str) -> str:
    """ "gsm7" when every character is in the GSM 03.38 alphabet, else "ucs2"."""
    return "gsm7" if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text) else "ucs2"


def _units(char: str, scheme: str) -> int:
    if scheme == "gsm7":
        return 2 if char in _GSM_EXTENDED else 1
    return len(char.encode("utf-16-le")) // 2  # an emoji is a surrogate pair: two units


def segments(text: str, scheme: str | None = None) -> int:
    """How many SMS segments `text` costs. A character is never split across segments
    (handsets cannot join half a surrogate pair or half an escape sequence)."""
    scheme = scheme or encoding(text)
    single, concatenated = _LIMITS[scheme]
    units = [_units(c, scheme) for c in text]
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for size in units:
        if used + size > concatenated:
            count, used = count + 1, 0
        used += size
    return count


def _fits(text: str, max_segments: int, scheme: str) -> bool:
    return segments(text, scheme) <= max_segments


def split_sms(text: str, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """`text` in parts of at most `max_segments` segments each, cut at the best boundary:
    a blank line, a line break, the end of a sentence (. ? ! ।), a space; inside a word
    only when a single word is too long. Whitespace at a cut is dropped, nothing else."""
    text = text.strip()
    scheme = encoding(text)  # the whole text's: a part in GSM-7 only gets cheaper
    parts: list[str] = []
    while text:
        if _fits(text, max_segments, scheme):
            parts.append(text)
            break
        end = _longest_fitting_prefix(text, max_segments, scheme)
        cut = _best_cut(text[:end])
        if cut == 0:
            cut = end
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return parts


def _longest_fitting_prefix(text: str, max_segments: int, scheme: str) -> int:
    low, high = 1, len(text)  # text[:1] always fits; the whole text does not
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(text[:middle], max_segments, scheme):
            low = middle
        else:
            high = middle - 1
    return low


def _best_cut(prefix: str) -> int:
    """Where to end a part inside `prefix` (which may stop mid-word): just after the
    strongest boundary in its second half, 0 when there is none."""
    half = len(prefix) // 2
    for marks in (("\n\n",), ("\n",), (". ", "? ", "! ", "। ", "।\n"), (" ",)):
        best = max(prefix.rfind(mark) for mark in marks)
        if best > half or (marks == (" ",) and best > 0):
            return best + 1
    return 0


# Characters the other channels show that SMS cannot afford: one of them makes an English
# SMS UCS-2 (70 characters a segment instead of 160), an emoji costs two UCS-2 units.
_GSM_FOLDS = {
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


def sms_text(text: str) -> str:
    """`text` as SMS sends it: no emoji or pictographs, and in GSM-7 unless it needs
    Devanagari (a Hindi text is UCS-2 anyway, so only its emoji go)."""
    kept = "".join(c for c in text if not _pictograph(c))
    if encoding(kept) == "gsm7":
        return _tidy(kept)
    folded = "".join(_GSM_FOLDS.get(c, c) for c in kept)
    if encoding(folded) == "gsm7":
        return _tidy(folded)
    # Devanagari stays, and with it UCS-2: only the bullets of masked numbers are folded,
    # so both languages show "****0001".
    return _tidy(kept.replace("•", "*"))


def _pictograph(char: str) -> bool:
    # Emoji and symbols (So), variation selectors and joiners left behind by them.
    return unicodedata.category(char) == "So" or char in "\ufe0f\u200d"


def _tidy(text: str) -> str:
    """Spaces left where an emoji stood ("⚡ Electricity" -> "Electricity")."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(lines).strip()


def render_sms(message: OutboundMessage, language: Language) -> list[str]:
    """One outbound message as the SMS texts to send, in order."""
    text = numbered_text(message, language)
    if message.attachment is not None:
        # A bill copy (bot/model/bill_copies.py names its files "bill-…") or a receipt.
        key = (
            "bill_copy_link" if message.attachment.filename.startswith("bill-") else "receipt_link"
        )
        link = texts.render(key, language, url=message.attachment.url)
        text = f"{text}\n{link}"
    parts = split_sms(sms_text(text))
    if len(parts) > MAX_MESSAGES:
        parts = parts[:MAX_MESSAGES]
        last = parts[-1]
        while last and not _fits(last + ELLIPSIS, MAX_SEGMENTS, encoding(last + ELLIPSIS)):
            last = last[:-1]
        parts[-1] = last.rstrip() + ELLIPSIS
    return parts


class SmsSender:
    """The SMS channel's sender: replies, pushes and, when SMS_BACKEND=twilio, OTPs."""

    channel = Channel.SMS

    def __init__(
        self,
        messages: TwilioMessages,
        from_number: str,
        dlt_templates: Mapping[tuple[str, Language], str] | None = None,
    ) -> None:
        self._messages = messages
        self._from = from_number
        # TRAI DLT: Twilio matches each text against the templates registered for the
        # entity; the ids are kept here so logs name the template a message relies on.
        self._dlt_templates = dict(dlt_templates or {})

    async def send(self, delivery: Delivery) -> None:
        parts = render_sms(delivery.message, delivery.language)
        kind = "receipt" if delivery.message.attachment else delivery.kind.value
        template = self._dlt_templates.get((kind, delivery.language))
        log.debug("SMS %d: %d part(s), DLT template %s", delivery.sequence, len(parts), template)
        for index, part in enumerate(parts):
            try:
                await self._messages.create(to=delivery.address, from_=self._from, body=part)
            except (DeliveryFailed, DeliveryUncertain) as exc:
                if index == 0:
                    raise
                # Some parts went out: sending the whole message again would repeat them.
                raise DeliveryUncertain(f"SMS part {index + 1} of {len(parts)} not sent") from exc

    @property
    def longest_send_s(self) -> float:
        return self._messages.longest_create_s * MAX_MESSAGES

    async def find_sent(self, delivery: Delivery, since: datetime) -> bool | None:
        """Twilio has it when it has its first part: the parts after a first one that went
        are never sent again (a repeat would be worse than a cut-off reply)."""
        first = render_sms(delivery.message, delivery.language)[0]
        return await self._messages.sent_since(delivery.address, self._from, since, first)

    async def send_sms(self, to: str, text: str) -> None:
        """The SmsSender port (OTPs): one text, straight away."""
        try:
            await self._messages.create(to=to, from_=self._from, body=text)
        except (DeliveryFailed, DeliveryUncertain) as exc:
            raise SmsUnavailable("SMS not sent") from exc

    async def aclose(self) -> None:
        await self._messages.aclose()
