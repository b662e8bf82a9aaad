"""Email addresses as residents type them: found in a sentence, checked, masked.

The check is pragmatic, not RFC 5322: one "@", a local part of the characters people use
(letters, digits and . _ % + -), a domain with a dot and a letters-only top level. Quoted
local parts and IP-literal domains are valid mail addresses nobody types into a bill chat;
refusing them costs less than emailing a typo. The domain is lower-cased (DNS is case-blind);
the local part is kept as typed, since a mail server may treat its case as meaningful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

# RFC 5321: a path is at most 256 octets with its brackets, so an address at most 254;
# a local part at most 64.
MAX_ADDRESS_CHARS = 254
MAX_LOCAL_CHARS = 64

_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"(?<![\w.+\-@])({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,24}})(?![\w\-@])")


def normalise_email(text: str) -> str | None:
    """The address `text` is (spaces around it allowed), domain lower-cased; None if not one."""
    candidate = text.strip().strip("<>").strip()
    found = _ADDRESS.fullmatch(candidate)
    return _checked(found) if found else None


def find_email(text: str) -> str | None:
    """The one address in a sentence ("my email is Ramesh.K@Gmail.com."), normalised; None
    when there is none, or more than one (which did they mean?)."""
    found = [_checked(match) for match in _ADDRESS.finditer(text)]
    valid = {address for address in found if address is not None}
    return valid.pop() if len(valid) == 1 else None


def addresses_in(text: str) -> set[str]:
    """Every address in `text`, wholly lower-cased: the form erasure compares (an address
    typed in someone else's chat must be found whatever its case)."""
    found = (_checked(match) for match in _ADDRESS.finditer(text))
    return {address.lower() for address in found if address is not None}


def _checked(match: re.Match[str]) -> str | None:
    local, domain = match.group(1), match.group(2).lower()
    address = f"{local}@{domain}"
    if ".." in local or len(local) > MAX_LOCAL_CHARS or len(address) > MAX_ADDRESS_CHARS:
        return None
    return address


def mask_email(address: str) -> str:
    """What a person may see: the first letter and the domain, "r•••@gmail.com". Never the
    rest of the local part, which is often a name or a phone number."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}" if local else "•••"


@dataclass
class EmailChallenge:
    """A code sent to `address` for this conversation's resident, waiting to be typed back.

    Only a keyed hash of the code is stored, as for linking codes (OWASP ASVS)."""

    conversation_id: str
    resident_id: str
    address: str
    code_hash: str
    sent_at: datetime
    expires_at: datetime
    attempts_left: int


@dataclass(frozen=True)
class OutgoingEmail:
    """One email: plain text (UTF-8, so Hindi reads as Hindi) and its attachments as
    (filename, content, MIME type)."""

    to: str
    subject: str
    text: str
    attachments: tuple[tuple[str, bytes, str], ...] = field(default=())
