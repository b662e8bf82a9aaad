"""Money is held in paise (int) everywhere; rupees appear only when shown to a person."""

from __future__ import annotations


def format_rupees(amount_paise: int) -> str:
    """Indian grouping with two decimals: 123456789 paise -> "₹12,34,567.89"."""
    sign = "-" if amount_paise < 0 else ""
    rupees, paise = divmod(abs(amount_paise), 100)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join(groups) + "," + tail
    return f"{sign}₹{digits}.{paise:02d}"
