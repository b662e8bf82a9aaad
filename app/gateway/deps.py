"""FastAPI dependencies: what routes receive from the app they run in."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.bootstrap import Container
from app.gateway.turn_locks import TurnLocks


# Async although they never await: FastAPI runs a plain `def` dependency in its thread pool,
# two thread hand-offs on every request for a dictionary lookup.
async def get_container(request: Request) -> Container:
    container: Container | None = request.app.state.container
    if container is None:  # only between create_app() and the lifespan's startup
        raise RuntimeError("the gateway is not started yet")
    return container


async def get_turn_locks(request: Request) -> TurnLocks:
    locks: TurnLocks = request.app.state.turn_locks
    return locks


ContainerDep = Annotated[Container, Depends(get_container)]
TurnLocksDep = Annotated[TurnLocks, Depends(get_turn_locks)]
