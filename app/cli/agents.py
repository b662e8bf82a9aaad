"""Create help-desk agents for the console:
`python -m app.cli.agents add <username> [--display-name "Asha"]`.

Residents see the display name ("Asha from the help desk"), never the username, which would
tell anyone whose login to guess at; without --display-name it is the username's first word.

The password comes from the AGENT_PASSWORD environment variable, else from stdin (prompted
without echo on a terminal), never from the command line, where `ps` and shell history
would show it to anyone.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from app.bootstrap import bootstrap
from bot.errors import AgentExists, InvalidAgentCredentials


def _password() -> str:
    from_env = os.environ.get("AGENT_PASSWORD")
    if from_env:
        return from_env
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


async def _add(username: str, password: str, display_name: str) -> int:
    container = bootstrap()
    try:
        agent = await container.agents.add(username, password, display_name)
    except (AgentExists, InvalidAgentCredentials) as error:
        kind = "exists" if isinstance(error, AgentExists) else "refused"
        print(f"agent {kind}: {error}", file=sys.stderr)
        return 1
    finally:
        await container.close()
    print(f"agent {agent.username} created, shown to residents as {agent.display_name!r}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli.agents")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an agent (password from AGENT_PASSWORD or stdin)")
    add.add_argument("username")
    add.add_argument(
        "--display-name", default="", help="the name residents see (default: a first name)"
    )
    args = parser.parse_args(argv)
    return asyncio.run(_add(args.username, _password(), args.display_name))


if __name__ == "__main__":
    sys.exit(main())
