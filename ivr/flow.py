"""IVR flows as data: nodes read from YAML, checked before anything runs, and the choice of the next node.

A flow is a set of named nodes and a start node. Each node has a `type` and the fields of that type;
prompts are text templates per language (`{balance|amount}` speaks a value with `speech.spoken`) or a
prompt id whose recorded WAV overrides the text. Loading rejects a bad flow with the node and field named:
unknown types or fields, missing fields, links to nodes that do not exist, unknown actions or grammars.
The running of a flow (media, speech, case store) lives in `ivr.runtime`; here is only the pure part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("zh", "en")
GRAMMARS = ("yes_no", "digits", "amount", "date")
FLOW_DIR = Path(__file__).parent / "flows"  # shipped flows; a campaign names one by its file's stem
DEFAULT_FLOW = FLOW_DIR / "collections.yaml"
END = "end"  # a link to `end` finishes the flow (the caller is then hung up on politely)

# Every node type: its required fields, optional fields (with defaults) and which fields link to nodes.
NODE_TYPES: dict[str, tuple[set[str], dict[str, Any], set[str]]] = {
    "play": ({"say", "next"}, {}, {"next"}),
    "collect": ({"say", "into", "next"}, {"min_digits": 1, "max_digits": 20, "terminator": "#",
                                         "timeout_s": 8.0, "retries": 2, "on_fail": END, "retry_say": None},
                {"next", "on_fail"}),
    "recognise": ({"say", "grammar", "into", "next"}, {"timeout_s": 6.0, "retries": 2, "on_fail": END,
                                                      "retry_say": None}, {"next", "on_fail"}),
    "menu": ({"say", "options"}, {"timeout_s": 6.0, "retries": 2, "on_fail": END, "retry_say": None},
             {"on_fail"}),
    "branch": ({"on", "cases"}, {"default": END}, {"default"}),
    "set": ({"values", "next"}, {}, {"next"}),
    "action": ({"name", "outcomes"}, {}, set()),
    "transfer": ({"group"}, {"say": None}, set()),
    "message": ({"say", "next"}, {"max_s": 60.0}, {"next"}),
    "hangup": (set(), {"say": None}, set()),
}


class FlowError(ValueError):
    """A flow that cannot run; the message names the node and the field."""


@dataclass(frozen=True)
class Say:
    """What to say: a prompt id (a recorded WAV overrides) and its text per language; `every_language`
    says it in each language in turn (the language menu, before the caller has chosen)."""

    prompt: str
    text: Mapping[str, str]
    every_language: bool = False

    def text_for(self, language: str) -> str:
        return self.text.get(language) or next(iter(self.text.values()))


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    fields: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def say(self, key: str = "say") -> Say | None:
        value = self.fields.get(key)
        return value if isinstance(value, Say) else None


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    nodes: Mapping[str, Node]
    sensitive: frozenset[str] = field(default_factory=frozenset)  # variables masked in run logs

    def node(self, name: str) -> Node:
        return self.nodes[name]


def next_for_menu(node: Node, digit: str) -> str | None:
    return node["options"].get(digit)


def next_for_branch(node: Node, value: Any) -> str:
    key = str(value).lower() if isinstance(value, bool) else str(value)
    return node["cases"].get(key, node["default"])


def next_for_action(node: Node, outcome: str) -> str:
    if outcome not in node["outcomes"]:
        raise FlowError(f"node {node.name!r}: action {node['name']!r} returned {outcome!r}, which has no outcome")
    return node["outcomes"][outcome]


def load_flow(path: Path, actions: Iterable[str]) -> Flow:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FlowError(f"{path}: not valid YAML: {error}") from error
    return parse_flow(document, set(actions), source=str(path))


def parse_flow(document: Any, actions: set[str], source: str = "flow") -> Flow:
    if not isinstance(document, dict):
        raise FlowError(f"{source}: a flow is a mapping with name, start and nodes")
    for key in ("name", "start", "nodes"):
        if key not in document:
            raise FlowError(f"{source}: field {key!r} is missing")
    unknown = set(document) - {"name", "start", "nodes", "sensitive"}
    if unknown:
        raise FlowError(f"{source}: unknown field(s) {sorted(unknown)}")
    raw_nodes = document["nodes"]
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise FlowError(f"{source}: field 'nodes' must map node names to nodes")
    nodes = {name: _parse_node(str(name), body, actions) for name, body in raw_nodes.items()}
    if document["start"] not in nodes:
        raise FlowError(f"{source}: field 'start' names {document['start']!r}, which is not a node")
    for node in nodes.values():
        for target in _links(node):
            if target != END and target not in nodes:
                raise FlowError(f"node {node.name!r}: links to {target!r}, which is not a node")
    return Flow(str(document["name"]), str(document["start"]), nodes, frozenset(document.get("sensitive", [])))


def _parse_node(name: str, body: Any, actions: set[str]) -> Node:
    if not isinstance(body, dict) or "type" not in body:
        raise FlowError(f"node {name!r}: field 'type' is missing")
    kind = body["type"]
    if kind not in NODE_TYPES:
        raise FlowError(f"node {name!r}: field 'type': unknown type {kind!r} (one of {sorted(NODE_TYPES)})")
    required, optional, _ = NODE_TYPES[kind]
    fields = {key: value for key, value in body.items() if key != "type"}
    missing = required - set(fields)
    if missing:
        raise FlowError(f"node {name!r}: field {sorted(missing)[0]!r} is missing")
    unknown = set(fields) - required - set(optional)
    if unknown:
        raise FlowError(f"node {name!r}: field {sorted(unknown)[0]!r} is not a field of a {kind} node")
    merged = {**optional, **fields}
    for key in ("say", "retry_say"):
        if merged.get(key) is not None:
            merged[key] = _parse_say(name, key, merged[key])
    _check_values(name, kind, merged, actions)
    return Node(name, kind, merged)


def _parse_say(name: str, key: str, value: Any) -> Say:
    if not isinstance(value, dict) or "prompt" not in value:
        raise FlowError(f"node {name!r}: field {key!r} needs a prompt id and its text per language")
    text = {language: str(value[language]) for language in LANGUAGES if language in value}
    extra = set(value) - {"prompt", "every_language", *LANGUAGES}
    if extra:
        raise FlowError(f"node {name!r}: field {key!r}: unknown language(s) {sorted(extra)}")
    if not text:
        raise FlowError(f"node {name!r}: field {key!r}: no text in any of {LANGUAGES}")
    return Say(str(value["prompt"]), text, bool(value.get("every_language", False)))


def _check_values(name: str, kind: str, fields: dict[str, Any], actions: set[str]) -> None:
    if kind == "collect":
        for key in ("min_digits", "max_digits", "retries"):
            if not isinstance(fields[key], int) or fields[key] < 0:
                raise FlowError(f"node {name!r}: field {key!r} must be a whole number >= 0")
        if fields["min_digits"] > fields["max_digits"]:
            raise FlowError(f"node {name!r}: field 'min_digits' is larger than 'max_digits'")
    if kind == "recognise" and fields["grammar"] not in GRAMMARS:
        raise FlowError(f"node {name!r}: field 'grammar': unknown grammar {fields['grammar']!r} (one of {GRAMMARS})")
    if kind == "menu":
        options = fields["options"]
        if not isinstance(options, dict) or not options or not all(
                isinstance(target, str) for target in options.values()):
            raise FlowError(f"node {name!r}: field 'options' must map keys to node names")
        fields["options"] = {str(key): value for key, value in options.items()}
    if kind == "branch":
        if not isinstance(fields["cases"], dict):
            raise FlowError(f"node {name!r}: field 'cases' must map values to node names")
        fields["cases"] = {str(key).lower() if isinstance(key, bool) else str(key): value
                           for key, value in fields["cases"].items()}
    if kind == "action":
        if fields["name"] not in actions:
            raise FlowError(f"node {name!r}: field 'name': no action {fields['name']!r} is registered")
        if not isinstance(fields["outcomes"], dict) or not fields["outcomes"]:
            raise FlowError(f"node {name!r}: field 'outcomes' must map outcomes to node names")
    if kind == "set" and not isinstance(fields["values"], dict):
        raise FlowError(f"node {name!r}: field 'values' must map variables to values")


def _links(node: Node) -> list[str]:
    _, _, link_fields = NODE_TYPES[node.type]
    links = [node.fields[key] for key in link_fields]
    if node.type == "menu":
        links += list(node["options"].values())
    elif node.type == "branch":
        links += list(node["cases"].values())
    elif node.type == "action":
        links += list(node["outcomes"].values())
    return [str(link) for link in links]
