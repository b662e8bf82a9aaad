"""The agent console's HTML, rendered on the server. Every value from a resident or the
database goes through `escape`: a resident's message must never become markup in an
agent's browser."""

from __future__ import annotations

from html import escape

from bot.model.calendar import format_datetime_ist
from bot.model.complaints import Complaint, ComplaintStatus
from bot.model.handoff import Agent, HandoffStatus
from bot.model.identifiers import mask
from bot.model.money import format_rupees
from bot.model.payments import Payment
from bot.model.residents import Language
from bot.services.handoff import QueuedConversation

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
section{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
.resident{color:#05529c}.agent{color:#1b6e20}.meta{color:#666;font-size:.9em}
form.inline{display:inline}textarea{width:100%}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def login_page(csrf: str, error: str = "") -> str:
    problem = f"<p role='alert' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Help desk login",
        "<h1>Help desk login</h1>"
        f"{problem}"
        "<form method='post' action='/agent/login'>"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
        "<p><label>Username <input name='username' id='username' autocomplete='username' "
        "required></label></p>"
        "<p><label>Password <input name='password' id='password' type='password' "
        "autocomplete='current-password' required></label></p>"
        "<p><button type='submit'>Log in</button></p></form>",
    )


def _form(action: str, csrf: str, inner: str, css: str = "inline") -> str:
    return (
        f"<form class='{css}' method='post' action='{escape(action)}'>"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>{inner}</form>"
    )


def _before(turns: list[tuple[str, str]]) -> str:
    if not turns:
        return ""
    lines = "".join(
        f"<li class='{escape(author)}'><span class='meta'>{escape(author)}</span> {escape(text)}</li>"
        for author, text in turns
    )
    return (
        f"<details><summary>Before the request</summary><ul class='before'>{lines}</ul></details>"
    )


def _conversation(
    item: QueuedConversation, agent: Agent, csrf: str, before: list[tuple[str, str]]
) -> str:
    handoff = item.handoff
    base = f"/agent/conversations/{handoff.handoff_id}"
    lines = (
        "".join(
            f"<li class='{line.author.value}'><span class='meta'>"
            f"{escape(format_datetime_ist(line.at, Language.EN))} · {line.author.value}</span> "
            f"{escape(line.text)}</li>"
            for line in item.transcript
        )
        or "<li class='meta'>(no messages yet)</li>"
    )
    if handoff.status is HandoffStatus.WAITING:
        actions = _form(f"{base}/take", csrf, "<button type='submit'>Take</button>")
        state = "waiting"
    elif handoff.agent_id == agent.agent_id:
        actions = _form(
            f"{base}/reply",
            csrf,
            "<textarea name='text' rows='2' maxlength='1000' required "
            "aria-label='Reply'></textarea><button type='submit'>Send reply</button>",
            css="reply",
        ) + _form(f"{base}/release", csrf, "<button type='submit'>Release to bot</button>")
        state = "held by you"
    else:
        actions = ""
        state = "held by another agent"
    return (
        f"<section class='conversation' data-handoff='{escape(handoff.handoff_id)}'>"
        f"<h3>{escape(item.channel.value)} {escape(item.address)} "
        f"<span class='meta'>· {state} · {item.language.value} · asked "
        f"{escape(format_datetime_ist(handoff.requested_at, Language.EN))}</span></h3>"
        f"{_before(before)}<ul class='transcript'>{lines}</ul>{actions}</section>"
    )


def _payment(payment: Payment | None) -> str:
    if payment is None:
        return "the service"
    parts = (
        payment.biller_id,
        mask(payment.consumer_number),
        format_rupees(payment.total_paise),
        payment.status.value,
        payment.receipt_number or "",
    )
    return " · ".join(part for part in parts if part)


def _complaint(complaint: Complaint, payment: Payment | None, csrf: str) -> str:
    options = "".join(
        f"<option value='{s.value}'{' selected' if s is complaint.status else ''}>"
        f"{s.value.replace('_', ' ')}</option>"
        for s in ComplaintStatus
    )
    change = _form(
        f"/agent/complaints/{complaint.complaint_id}/status",
        csrf,
        f"<select name='status' aria-label='Status'>{options}</select>"
        "<button type='submit'>Save</button>",
    )
    return (
        f"<tr data-complaint='{escape(complaint.complaint_id)}'>"
        f"<td>{escape(complaint.complaint_id)}</td>"
        f"<td>{escape(_payment(payment))}</td>"
        f"<td>{escape(complaint.disposition.value.replace('_', ' '))}</td>"
        f"<td>{escape(complaint.description)}</td>"
        f"<td>{escape(format_datetime_ist(complaint.created_at, Language.EN))}</td>"
        f"<td class='status'>{escape(complaint.status.value)}</td><td>{change}</td></tr>"
    )


def console_page(
    agent: Agent,
    csrf: str,
    queue: list[QueuedConversation],
    complaints: list[tuple[Complaint, Payment | None]],
    history: dict[str, list[tuple[str, str]]] | None = None,
) -> str:
    history = history or {}
    conversations = "".join(
        _conversation(item, agent, csrf, history.get(item.handoff.conversation_id, []))
        for item in queue
    ) or ("<p id='empty-queue'>Nobody is waiting.</p>")
    rows = "".join(_complaint(c, payment, csrf) for c, payment in complaints)
    table = (
        "<table><thead><tr><th>id</th><th>payment</th><th>what went wrong</th><th>description</th><th>raised</th>"
        f"<th>status</th><th>change</th></tr></thead><tbody>{rows}</tbody></table>"
        if complaints
        else "<p>No complaints.</p>"
    )
    return _page(
        "Help desk",
        f"<p class='meta'>Logged in as {escape(agent.username)} · "
        "<a href='/agent'>Refresh</a> "
        + _form("/agent/logout", csrf, "<button type='submit'>Log out</button>")
        + f"</p><h1>Help desk</h1><h2>Conversations</h2>{conversations}"
        f"<h2>Complaints</h2>{table}",
    )
