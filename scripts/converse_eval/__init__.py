"""`make converse-eval`: the conversation test suite of messy residents (issue 12).

Scenario files live in tests/conversations/scenarios/ (format: `scenarios.py`). The runner
starts the whole stack once (`stack.py`), gives each scenario its own copy of a sandbox
resident (`residents.py`), plays its turns on its channel (`channels.py`, `watcher.py`,
`runner.py`), judges the goal from the bot's own messages (`goals.py`, `responses.py`) and
sums up the figures (`metrics.py`, `sms.py`). README, "Conversation repair: make converse-eval".
"""
