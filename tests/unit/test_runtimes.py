"""The import contract that keeps Rasa out of the app runtime (pyproject.toml, README
"Runtimes") names every module of the app side: a new integration left off its list would be
checked by nobody."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = "integrations.rasa.engine"


def _contract(name_start: str) -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name_start))


def _children(package: str) -> set[str]:
    folder = ROOT.joinpath(*package.split("."))
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
    return {f"{package}.{name}" for name in modules}


def test_every_module_outside_the_rasa_server_is_held_to_the_app_runtime() -> None:
    sources = set(_contract("The app runtime imports neither Rasa")["source_modules"])
    app_side = (_children("integrations") - {"integrations.rasa"}) | (
        _children("integrations.rasa") - {ENGINE}
    )
    assert app_side - sources == set()
    assert {"app", "actions", "channels", "bot"} <= sources
    assert ENGINE in _contract("The app runtime imports neither Rasa")["forbidden_modules"]


def test_the_rasa_servers_code_is_held_to_the_engine_runtime() -> None:
    contract = _contract("The Rasa server's code imports nothing")
    assert contract["source_modules"] == [ENGINE]
    assert {"app", "actions", "channels", "integrations.db"} <= set(contract["forbidden_modules"])
