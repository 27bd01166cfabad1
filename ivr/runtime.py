"""Running a flow on a call: each node's prompts, digits, speech and actions, and the log of the run.

The runner talks to the call only through a `Channel` (prompts, digits, recognition, transfer, message,
hang-up) and to the case store only through named actions, so a flow runs the same over SIP, in a test,
or in a simulator. Digits pressed early are kept (type-ahead) and a digit stops the prompt (barge-in).
Sensitive inputs (date of birth, national ID) are masked in the run log.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ivr.flow import END, Flow, FlowError, Node, Say, next_for_action, next_for_branch, next_for_menu
from ivr.templates import render

MAX_STEPS = 500  # a flow that loops longer than this is broken, not patient
TERMINATOR_GRACE_S = 0.6  # after a full-length answer, how long a trailing terminator is waited for
_HUNG_UP, _TRANSFERRED = "<hung up>", "<transferred>"  # where a step leads when the flow is over


class Channel(Protocol):
    async def say(self, say: Say, text: str, language: str) -> None: ...
    async def digit(self, timeout_s: float) -> str | None: ...
    async def listen(self, grammar: str, language: str, timeout_s: float) -> Any | None: ...
    async def transfer(self, group: str, context: Mapping[str, Any]) -> None: ...
    async def record_message(self, max_s: float) -> str | None: ...
    async def hang_up(self) -> None: ...
    @property
    def ended(self) -> bool: ...


@dataclass
class RunState:
    language: str
    variables: dict[str, Any]
    path: list[str] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (variable, value as logged)


Action = Callable[[RunState], Awaitable[str]]


@dataclass(frozen=True)
class RunLog:
    flow: str
    path: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...]
    outcome: str  # completed, hung_up (by the caller), transferred, failed
    seconds: float
    variables: Mapping[str, Any]


class FlowRunner:
    def __init__(self, flow: Flow, channel: Channel, actions: Mapping[str, Action], *, language: str,
                 variables: dict[str, Any] | None = None) -> None:
        self.flow, self.channel, self.actions = flow, channel, actions
        self.state = RunState(language, dict(variables or {}))
        self._unread: list[str] = []  # a digit read ahead that belongs to the next question

    async def run(self) -> RunLog:
        started = time.monotonic()
        outcome, current = "completed", self.flow.start
        for _ in range(MAX_STEPS):
            if current == END:
                await self.channel.hang_up()
                break
            if self.channel.ended:
                outcome = "hung_up"  # by the caller
                break
            node = self.flow.node(current)
            self.state.path.append(node.name)
            current = await self._step(node)
            if current == _TRANSFERRED:
                outcome = "transferred"
                break
            if current == _HUNG_UP:
                break
        else:
            outcome = "failed"
            await self.channel.hang_up()
        return RunLog(self.flow.name, tuple(self.state.path), tuple(self.state.inputs), outcome,
                      time.monotonic() - started, dict(self.state.variables))

    async def _say(self, say: Say | None) -> None:
        if say is None:
            return
        for language in (say.text if say.every_language else [self.state.language]):
            if self.channel.ended:
                return
            text = render(say.text_for(language), self.state.variables, language)
            await self.channel.say(say, text, language)

    def _remember(self, variable: str, value: Any) -> None:
        self.state.variables[variable] = value
        shown = "*" * len(str(value)) if variable in self.flow.sensitive else str(value)
        self.state.inputs.append((variable, shown))

    async def _step(self, node: Node) -> str:
        kind = node.type
        if kind == "play":
            await self._say(node.say())
            return node["next"]
        if kind == "set":
            self.state.variables.update(node["values"])
            if "language" in node["values"]:
                self.state.language = str(node["values"]["language"])
            return node["next"]
        if kind == "branch":
            on = node["on"]  # `language`: the language the run speaks, whether set by a node or from the case
            return next_for_branch(node, self.state.language if on == "language" else self.state.variables.get(on))
        if kind == "action":
            return next_for_action(node, await self.actions[node["name"]](self.state))
        if kind == "hangup":
            await self._say(node.say())
            await self.channel.hang_up()
            return _HUNG_UP
        if kind == "transfer":
            await self._say(node.say())
            context = {k: v for k, v in self.state.variables.items() if k not in self.flow.sensitive}
            await self.channel.transfer(node["group"], context)
            return _TRANSFERRED
        if kind == "message":
            await self._say(node.say())
            self._remember("message", await self.channel.record_message(node["max_s"]) or "")
            return node["next"]
        return await self._ask(node)

    async def _ask(self, node: Node) -> str:
        """menu, collect and recognise: prompt, answer, retries, then the failure link."""
        for attempt in range(node["retries"] + 1):
            if self.channel.ended:
                return END
            await self._say(node.say("retry_say") if attempt and node.say("retry_say") else node.say())
            if node.type == "menu":
                digit = await self._digit(node["timeout_s"])
                if digit is not None and (target := next_for_menu(node, digit)) is not None:
                    self._remember(node.name, digit)
                    return target
            elif node.type == "collect":
                digits = await self._collect(node)
                if digits is not None:
                    self._remember(node["into"], digits)
                    return node["next"]
            else:
                value = await self.channel.listen(node["grammar"], self.state.language, node["timeout_s"])
                if value is not None:
                    self._remember(node["into"], value)
                    return node["next"]
        return node["on_fail"]

    async def _digit(self, timeout_s: float) -> str | None:
        return self._unread.pop(0) if self._unread else await self.channel.digit(timeout_s)

    async def _collect(self, node: Node) -> str | None:
        digits = ""
        while len(digits) < node["max_digits"]:
            digit = await self._digit(node["timeout_s"])
            if digit is None or digit == node["terminator"]:
                return digits if len(digits) >= node["min_digits"] else None
            digits += digit
        # Full length: a terminator typed out of habit belongs to this answer, anything else to the next.
        after = await self._digit(TERMINATOR_GRACE_S)
        if after is not None and after != node["terminator"]:
            self._unread.append(after)
        return digits if len(digits) >= node["min_digits"] else None


def check_actions(flow: Flow, actions: Mapping[str, Action]) -> None:
    missing = {node["name"] for node in flow.nodes.values() if node.type == "action"} - set(actions)
    if missing:
        raise FlowError(f"flow {flow.name!r}: actions not registered: {sorted(missing)}")
