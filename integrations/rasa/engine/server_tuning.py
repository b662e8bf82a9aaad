"""Fixes applied inside the Rasa server process before it starts (server.py).

The speed fixes replace work Rasa 3.6 repeats on every turn with the same work done once;
none changes what a turn answers. One fault fix: an action server that is down or hangs
gets the resident a "try again" answer instead of silence. Measured with py-spy on `make bench` (README,
"Performance"): before these, checking action server answers against a JSON schema was
about 30% of the Rasa server's CPU time.
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict
from typing import Any

from integrations.rasa.engine import form_faults

# Parses remembered per Rasa process: the same few hundred texts ("hi", "yes", "menu", "bill")
# make up most turns. Only short texts: long ones rarely repeat.
PARSE_CACHE_SIZE = 4096
PARSE_CACHE_MAX_CHARS = 64
# Rasa waits 5 minutes for an action by default; the gateway gives up on Rasa after 30 s.
ACTION_TIMEOUT_S = 20
# A session longer than this many events is closed at the next resting point (below).
MAX_SESSION_EVENTS = 120
# Slots that hold an open question: a session never restarts while one is set.
OPEN_QUESTION_SLOTS = ("requested_slot", "pending_confirmation")
FAILED_ACTION_RESPONSE = "utter_service_unavailable"
# Idle connections to the action server are reused for this long: well under the 5 s after
# which its Sanic closes them, so a reused one is never closed under a request in flight.
ACTION_SERVER_KEEPALIVE_S = 2.0
# All of the domain that rasa-sdk's form validation reads.
FORM_VALIDATION_DOMAIN_KEYS = ("slots", "forms")


def apply() -> None:
    """Install every fix; idempotent."""
    _compile_action_result_schema_once()
    _compile_events_schema_once()
    _look_up_event_types_in_a_table()
    _run_the_model_graph_in_a_fixed_order()
    _parse_payloads_and_frequent_texts_once()
    _answer_when_the_action_server_fails()
    form_faults.apply()  # needs the failure answer above
    _send_the_action_server_only_what_it_reads()
    _keep_connections_to_the_action_server_open()
    _start_a_new_session_when_one_grows_long()


def _compile_action_result_schema_once() -> None:
    """RemoteAction validates each action server answer with `jsonschema.validate`, which
    re-checks the (constant) schema against the metaschema and builds a new validator on
    every call. Build the validator once and raise exactly what `validate` would."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction, "_bot_tuned", False):
        return

    @functools.lru_cache(maxsize=1)
    def validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator().iter_errors(result))
        if error is None:
            return True
        if isinstance(error, ValidationError):
            error.message += (
                ". Failed to validate Action server response from API, make sure your "
                "response from the Action endpoint is valid. For more information about the "
                f"format visit {DOCS_BASE_URL}/custom-actions"
            )
        raise error

    RemoteAction._validate_action_result = validate_action_result
    RemoteAction._bot_tuned = True


def _compile_events_schema_once() -> None:
    """The same for events posted to `/conversations/<id>/tracker/events` (the gateway sets
    the language slot that way on a conversation's first turn). Same checks, same 400."""
    from http import HTTPStatus

    import rasa.server
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    if getattr(rasa.server, "_bot_tuned", False):
        return
    schema = rasa.server.EVENTS_SCHEMA
    cls = validator_for(schema)
    cls.check_schema(schema)
    events_validator = cls(schema)

    def validate_events_in_request_body(request: Any) -> None:
        events = request.json if isinstance(request.json, list) else [request.json]
        error = best_match(events_validator.iter_errors(events))
        if error is not None:
            raise rasa.server.ErrorResponse(
                HTTPStatus.BAD_REQUEST,
                "BadRequest",
                "Failed to validate the events format. For more information about the "
                f"format visit the docs. Error: {error}",
                help_url=rasa.server._docs("/pages/http-api"),
            ) from error

    rasa.server.validate_events_in_request_body = validate_events_in_request_body
    rasa.server._bot_tuned = True


def _look_up_event_types_in_a_table() -> None:
    """Every turn rebuilds the tracker from its stored events, and Rasa finds each event's
    class by walking every subclass of Event, recursively, once per event: 14% of the Rasa
    server's CPU under `make bench`. Remember each answer instead. Only found classes are
    remembered, so unknown names still get Rasa's own default or error."""
    from rasa.shared.core.events import Event

    if getattr(Event, "_bot_tuned", False):
        return
    walk = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is None:
            cls = walk(type_name, default)
            if cls is not None and cls.type_name == type_name:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)
    Event._bot_tuned = True


def _run_the_model_graph_in_a_fixed_order() -> None:
    """Rasa runs its model graph (NLU for a message, the policies for each next action:
    several runs a turn) through dask's synchronous scheduler, which on every run works out
    again which nodes the targets need (recursively, revisiting shared nodes), builds a dask
    graph and orders it. For a loaded model and given targets the answer never changes:
    work the order out once and call the nodes in it, each with what dask would pass it (the
    (name, output) of each node it needs, an input's (name, value), or a name nothing
    provides). The nodes run are the same; only independent ones may run in another order."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    if getattr(DaskGraphRunner, "_bot_tuned", False):
        return

    def order(self: DaskGraphRunner, targets: tuple[str, ...]) -> list[str]:
        orders: dict[tuple[str, ...], list[str]] = self.__dict__.setdefault("_bot_orders", {})
        if targets not in orders:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            ordered: list[str] = []

            def visit(name: str) -> None:
                if name in nodes and name not in ordered:
                    for need in nodes[name].needs.values():
                        visit(need)
                    ordered.append(name)

            for name in nodes:
                visit(name)
            orders[targets] = ordered
        return orders[targets]

    def run(
        self: DaskGraphRunner,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        run_targets = list(targets) if targets else self._graph_schema.target_names
        ordered = order(self, tuple(run_targets))
        results: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in ordered:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none "
                    "of the input names passed to the `run` method are the same as node "
                    "names in the graph schema."
                )
            results[name] = (name, value)
        nodes = self._graph_schema.nodes
        try:
            for name in ordered:
                needs = nodes[name].needs.values()
                results[name] = self._instantiated_nodes[name](
                    *(results.get(need, need) for need in needs)
                )
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(results.get(target, target) for target in run_targets)

    DaskGraphRunner._bot_dask_run = DaskGraphRunner.run  # for tests
    DaskGraphRunner.run = run
    DaskGraphRunner._bot_tuned = True


def _parse_payloads_and_frequent_texts_once() -> None:
    """Rasa 3.6 runs the whole NLU pipeline (featurizers, DIET) even for a button payload
    such as `/inform{"biller": "JVVNL0000RAJ01"}`, then throws the classifier's answer away
    and takes intent and entities from the payload. Unpack payloads directly, and remember
    the parse of short texts: the classifier is deterministic at inference and reads nothing
    but the text, so a repeated "yes" or "hi" gets the same parse it got before."""
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    if getattr(MessageProcessor, "_bot_tuned", False):
        return
    graph_parse = MessageProcessor._parse_message_with_graph

    def parse(
        self: MessageProcessor, message: Any, tracker: Any, only_output_properties: bool = True
    ) -> dict[str, Any]:
        text = message.text or ""
        if text.startswith("/"):
            unpacked = YAMLStoryReader.unpack_regex_message(
                Message({TEXT: text}), self.domain, entity_extractor_name="RegexMessageHandler"
            )
            intent = unpacked.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY):  # a known intent: what the graph would answer
                return {
                    TEXT: text,
                    INTENT: intent,
                    "entities": [],
                    **unpacked.as_dict(only_output_properties=only_output_properties),
                }
        if len(text) > PARSE_CACHE_MAX_CHARS:
            full: dict[str, Any] = graph_parse(self, message, tracker, only_output_properties)
            return full
        cache: OrderedDict[tuple[str, bool], dict[str, Any]] = self.__dict__.setdefault(
            "_bot_parse_cache", OrderedDict()
        )
        key = (text, only_output_properties)
        if key in cache:
            cache.move_to_end(key)
            return copy.deepcopy(cache[key])
        parsed: dict[str, Any] = graph_parse(self, message, tracker, only_output_properties)
        cache[key] = copy.deepcopy(parsed)
        if len(cache) > PARSE_CACHE_SIZE:
            cache.popitem(last=False)
        return parsed

    MessageProcessor._parse_message_with_graph = parse
    MessageProcessor._bot_untuned_parse = graph_parse  # for tests
    MessageProcessor._bot_tuned = True


def _answer_when_the_action_server_fails() -> None:
    """When the action server refuses, errs (5xx) or times out, Rasa 3.6 logs it and carries
    on with no events, so the resident gets no answer at all. Answer with
    utter_service_unavailable ("nothing was changed, try again in a few minutes") instead.
    Our actions catch their own errors (actions/runtime.py); this is for the transport."""
    import asyncio
    import logging

    import rasa.core.actions.action as rasa_actions
    from rasa.core.actions.action import (
        ActionExecutionRejection,
        RemoteAction,
        create_bot_utterance,
    )
    from rasa.shared.exceptions import RasaException

    from integrations.rasa.engine.form_faults import ActionServerFailed

    if getattr(RemoteAction, "_bot_answers_failures", False):
        return
    log = logging.getLogger(__name__)
    rasa_actions.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_S
    remote_run = RemoteAction.run

    async def run(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        try:
            events: list[Any] = await remote_run(self, output_channel, nlg, tracker, domain)
            return events
        except ActionExecutionRejection:
            raise  # a form's "not my input": Rasa handles it
        except (RasaException, asyncio.TimeoutError) as exc:
            log.error("action %s failed at the action server: %s", self.name(), type(exc).__name__)
            response = await nlg.generate(FAILED_ACTION_RESPONSE, tracker, output_channel.name())
            # Marked, so a form knows its validation did not run (form_faults.py).
            return ActionServerFailed([create_bot_utterance(response)] if response else [])

    RemoteAction.run = run
    RemoteAction._bot_answers_failures = True


def _send_the_action_server_only_what_it_reads() -> None:
    """Every call to the action server carries the whole domain (hundreds of responses in two
    languages) and every event of the session, serialised anew each time.

    - Only rasa-sdk's form validation actions (`validate_<form>`) read the domain, and of it
      only `slots` and `forms` (rasa_sdk forms.py and slots.py): they get those two keys
      (3 KB instead of 70 KB of JSON to write and parse per call); the others get none, as
      with Rasa's own `enable_selective_domain`, without having to flag each action in the
      domain. An action the domain flags as needing it gets the whole domain.
    - Events: our actions read slots and the latest message, which travel apart from the
      events, and rasa-sdk reads only this turn's (the slot candidates a form validates are
      the slot events after its last action). So the events go from the resident's latest
      message on; slots, active form and latest message are sent whole as before."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import EventVerbosity

    if getattr(RemoteAction, "_bot_selective_domain", False):
        return

    # Keyed by identity: Domain.__hash__ itself serialises the whole domain. One model's
    # domain lives as long as the server, so the entry (domain kept alive with it) is safe.
    dicts: dict[int, tuple[Any, tuple[Any, Any]]] = {}

    def domain_dicts(domain: Any) -> Any:
        """(the whole domain, what form validation reads) as dicts."""
        if id(domain) not in dicts:
            dicts.clear()  # a new model was loaded
            whole = domain.as_dict()
            for_forms = {key: whole[key] for key in FORM_VALIDATION_DOMAIN_KEYS if key in whole}
            dicts[id(domain)] = (domain, (whole, for_forms))
        return dicts[id(domain)][1]

    def call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
        import rasa

        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in this_turns_events(tracker)]
        result: dict[str, Any] = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": state,
            "version": rasa.__version__,
        }
        name = self.name()
        if domain.does_custom_action_explicitly_need_domain(name):
            result["domain"] = domain_dicts(domain)[0]
        elif name.startswith("validate_"):
            result["domain"] = domain_dicts(domain)[1]
        return result

    def this_turns_events(tracker: Any) -> list[Any]:
        """The events from the latest user message on; all of them before the first."""
        events = list(tracker.events)
        for index in range(len(events) - 1, -1, -1):
            if isinstance(events[index], UserUttered):
                return events[index:]
        return events

    RemoteAction._action_call_format = call_format
    RemoteAction._bot_selective_domain = True


def _keep_connections_to_the_action_server_open() -> None:
    """Rasa's EndpointConfig.request opens a new aiohttp session, and so a new TCP
    connection, for every call to the action server (several per turn), and closes it after.
    Keep one session per endpoint and event loop instead, made as Rasa makes it, whose
    connections stay open between calls (ACTION_SERVER_KEEPALIVE_S)."""
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    if getattr(EndpointConfig, "_bot_keeps_sessions", False):
        return

    class KeptOpen:
        """`async with` that hands out the kept session and leaves it open."""

        def __init__(self, session: aiohttp.ClientSession) -> None:
            self._session = session

        async def __aenter__(self) -> aiohttp.ClientSession:
            return self._session

        async def __aexit__(self, *exc_info: object) -> None:
            return None

    def session(self: EndpointConfig) -> KeptOpen:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_bot_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            auth = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth
                else None
            )
            made = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_SERVER_KEEPALIVE_S),
                json_serialize=action_call_json,
            )
            kept = self.__dict__["_bot_session"] = (loop, made)
        return KeptOpen(kept[1])

    EndpointConfig.session = session
    EndpointConfig._bot_keeps_sessions = True


def action_call_json(payload: Any) -> str:
    """A call to the action server as JSON, by ujson (a Rasa dependency): the tracker state
    each call carries took the stdlib's encoder ~5% of the Rasa server's CPU under `make bench`,
    several times what ujson takes. The same JSON values (a test compares them)."""
    import ujson

    text: str = ujson.dumps(payload, ensure_ascii=False, escape_forward_slashes=False)
    return text


def _start_a_new_session_when_one_grows_long() -> None:
    """Rasa's cost per turn grows with the session: the tracker is rebuilt from its events,
    the policies featurize all of them and every action call carries them (measured: turn 200
    of one conversation took 5-7x turn 1). Sessions normally end after an hour of silence; here
    one also ends once it holds MAX_SESSION_EVENTS events, but only at a resting point: no form
    running and no question open. The next turn then starts a new session, which carries the
    resident's language, utility, biller, consumer number and link (actions/session.py), as
    after an hour's pause. Rasa's SQL tracker store loads only the current session, and the
    in-memory one keeps only the current session once a new one has started."""
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor, "_bot_session_cap", False):
        return
    expired = MessageProcessor._has_session_expired

    def has_session_expired(self: MessageProcessor, tracker: Any) -> bool:
        if expired(self, tracker):
            return True
        if not self.domain.session_config.are_sessions_enabled():
            return False
        if len(tracker.events) <= MAX_SESSION_EVENTS or tracker.active_loop_name:
            return False
        slots = tracker.slots
        return not any(name in slots and slots[name].value for name in OPEN_QUESTION_SLOTS)

    MessageProcessor._has_session_expired = has_session_expired
    MessageProcessor._bot_session_cap = True
