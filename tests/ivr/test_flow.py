"""Flow files: the shipped flow loads; a broken one is refused with the node and the field named."""

import copy
from pathlib import Path

import pytest
import yaml

from ivr.flow import DEFAULT_FLOW, FlowError, parse_flow

ACTIONS = {"identify", "check_verifiable", "verify_identity", "load_account", "check_promise", "save_promise",
           "offer_plan", "save_plan", "request_callback", "dispute", "cease"}
SHIPPED = yaml.safe_load(DEFAULT_FLOW.read_text(encoding="utf-8"))


def test_the_shipped_flow_loads_and_every_prompt_has_both_languages() -> None:
    flow = parse_flow(SHIPPED, ACTIONS)
    assert flow.start == "identify" and "dob" in flow.sensitive
    for node in flow.nodes.values():
        for key in ("say", "retry_say"):
            if (say := node.say(key)) is not None:
                assert set(say.text) == {"zh", "en"}, node.name


def broken(change) -> dict:  # type: ignore[no-untyped-def]
    document = copy.deepcopy(SHIPPED)
    change(document["nodes"])
    return document


@pytest.mark.parametrize("change, message", [
    (lambda n: n["ask_dob"].pop("into"), "node 'ask_dob': field 'into' is missing"),
    (lambda n: n["ask_dob"].update(max_digit=8), "node 'ask_dob': field 'max_digit' is not a field of a collect node"),
    (lambda n: n["greet"].update(next="nowhere"), "node 'greet': links to 'nowhere', which is not a node"),
    (lambda n: n["greet"].update(type="shout"), "node 'greet': field 'type': unknown type 'shout'"),
    (lambda n: n["load"].update(name="teleport"), "node 'load': field 'name': no action 'teleport' is registered"),
    (lambda n: n["ask_dob"].update(min_digits=9), "node 'ask_dob': field 'min_digits' is larger than 'max_digits'"),
    (lambda n: n["greet"]["say"].update(fr="Bonjour"), "node 'greet': field 'say': unknown language(s) ['fr']"),
    (lambda n: n["main_menu"].update(options=[]), "node 'main_menu': field 'options' must map keys to node names"),
])
def test_a_broken_flow_names_the_node_and_field(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FlowError) as error:
        parse_flow(broken(change), ACTIONS)
    assert message in str(error.value)


def test_a_file_that_is_not_yaml_says_so(tmp_path: Path) -> None:
    from ivr.flow import load_flow

    bad = tmp_path / "flow.yaml"
    bad.write_text("nodes: [unclosed", encoding="utf-8")
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow(bad, ACTIONS)
