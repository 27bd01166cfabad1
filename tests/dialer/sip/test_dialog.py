from pathlib import Path

from dialer.sip.dialog import dialog_from_uac, dialog_from_uas, new_branch
from dialer.sip.message import SipRequest, SipResponse, parse

WIRE = Path(__file__).parent / "wire"


def invite() -> SipRequest:
    message = parse((WIRE / "invite_compact_folded.sip").read_bytes())
    assert isinstance(message, SipRequest)
    return message


def ok_for(request: SipRequest) -> SipResponse:
    response = SipResponse(status=200, reason="OK")
    for name in ("Via", "From", "Call-ID", "CSeq"):
        for value in request.get_all(name):
            response.add(name, value)
    response.add("To", (request.get("To") or "") + ";tag=callee9")
    for route in request.get_all("Record-Route"):
        response.add("Record-Route", route)
    response.add("Contact", "<sip:debtor@192.0.2.9:5070>")
    return response


def test_uac_dialog_routes_a_bye_through_the_reversed_record_route() -> None:
    request = invite()
    dialog = dialog_from_uac(request, ok_for(request))
    assert dialog.key == ("a84b4c76e66710@10.0.0.1", "1928301774", "callee9")
    assert dialog.route_set == ["<sip:p2.example;lr>", "<sip:p1.example;lr>"]
    bye = dialog.next_request("BYE", f"SIP/2.0/UDP 10.0.0.1:5060;branch={new_branch()}")
    assert bye.uri == "sip:debtor@192.0.2.9:5070" and bye.get_all("Route") == dialog.route_set
    assert bye.get("CSeq") == "314160 BYE" and (bye.get("To") or "").endswith("tag=callee9")
    ack = dialog.ack_for_2xx(314159, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKack")
    assert ack.get("CSeq") == "314159 ACK" and ack.method == "ACK"


def test_strict_router_gets_the_request_uri() -> None:
    request = invite()
    request.remove("Record-Route")
    request.add("Record-Route", "<sip:strict.example>")
    dialog = dialog_from_uac(request, ok_for(request))
    bye = dialog.next_request("BYE", "SIP/2.0/UDP h;branch=z9hG4bKx")
    assert bye.uri == "sip:strict.example" and bye.get_all("Route") == ["<sip:debtor@192.0.2.9:5070>"]


def test_uas_dialog_checks_remote_cseq_and_refreshes_target() -> None:
    request = invite()
    dialog = dialog_from_uas(request, "me1")
    assert dialog.route_set == ["<sip:p1.example;lr>", "<sip:p2.example;lr>"] and dialog.remote_seq == 314159
    later = invite()
    later.set("CSeq", "314160 INVITE")
    later.set("Contact", "<sip:dialer@10.0.0.7>")
    assert dialog.accept_remote_request(later) and dialog.remote_target == "sip:dialer@10.0.0.7"
    older = invite()
    older.set("CSeq", "314000 INVITE")
    assert not dialog.accept_remote_request(older)


def test_the_user_part_of_a_uri() -> None:
    from dialer.sip.headers import parse_name_addr

    assert parse_name_addr("<sip:+8613800000001@trunk.example:5060;user=phone>;tag=1").user == "+8613800000001"
    assert parse_name_addr("sip:agent1@127.0.0.1").user == "agent1"
    assert parse_name_addr("<sip:127.0.0.1:5060>").user == ""
