"""How results are printed: one line per scenario, and each exchange in verbose mode."""

from __future__ import annotations

from scripts.converse_eval.transcript import ScenarioResult, TurnRecord


def _short(text: str, limit: int = 400) -> str:
    flat = text.replace("\n", " / ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def result_line(result: ScenarioResult) -> str:
    status = "PASS" if result.passed else "FAIL"
    line = (
        f"{status}  {result.name}  {result.channel}/{result.language}  "
        f"turns {result.turns} (happy {result.happy_turns})  lost {result.lost_turns}"
    )
    if result.silent_turns:
        line += f"  silent {result.silent_turns}"
    if result.sms_journey_segments is not None:
        line += f"  sms-segments {result.sms_journey_segments}"
    if result.whatsapp_per_turn:
        line += f"  wa-max {max(result.whatsapp_per_turn)}"
    if result.language_mixups:
        first = _short(result.language_mixups[0], 80)
        line += f"  mixups {len(result.language_mixups)} (e.g. {first!r})"
    why = ([result.error] if result.error else []) + result.reasons
    if why and not result.passed:
        line += "  — " + "; ".join(why)
    return line


def _bot_line(record: TurnRecord) -> list[str]:
    lines = []
    for message in record.replies:
        buttons = " ".join(f"[{b.title}]" for b in message.buttons if b.title not in message.text)
        cost = f" ({message.sms_segments} seg)" if message.sms_segments else ""
        lines.append(f"      bot{cost}: {_short(message.text)} {buttons}".rstrip())
    if not record.replies:
        lines.append("      bot: (no answer)")
    return lines


def transcript(result: ScenarioResult) -> str:
    lines = [f"--- {result.name} ({result.channel}/{result.language}, goal {result.goal})"]
    for record in result.records:
        flags = []
        if record.lost:
            flags.append("LOST")
        if record.callback_answered is False:
            flags.append("callback not answered")
        names = ", ".join(sorted(record.responses)) or "-"
        lines.append(
            f"  {record.index:2d} you: {record.sent}   <{names}> {' '.join(flags)}".rstrip()
        )
        lines += _bot_line(record)
        lines += [f"      ! {item}" for item in record.notes + record.failures]
    if result.goal_reached_at is not None:
        lines.append(f"  goal reached at turn {result.goal_reached_at}")
    return "\n".join(lines)
