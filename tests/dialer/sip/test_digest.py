import copy

from dialer.sip.digest import (
    Challenge,
    Credentials,
    auth_flow,
    authorization,
    digest_response,
    make_challenge,
    parse_answer,
    parse_challenge,
)
from dialer.sip.message import SipRequest, SipResponse


def test_rfc2617_known_answer() -> None:
    challenge = Challenge(realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth",
                          opaque="5ccc069c403ebaf9f0171e9517f40e41")
    assert digest_response(Credentials("Mufasa", "Circle Of Life"), challenge, "GET", "/dir/index.html",
                           "0a4f113b", 1) == "6629fae49393a05397450978507c4ef1"


def test_challenge_parsing_with_quoted_commas() -> None:
    challenge = parse_challenge('Digest realm="a, b", nonce="n1", qop="auth,auth-int", algorithm=SHA-256, stale=TRUE')
    assert (challenge.realm, challenge.qop, challenge.algorithm, challenge.stale) == ("a, b", "auth", "SHA-256", True)


def test_server_verifies_what_the_client_sends() -> None:
    nonce, header = make_challenge("dunline")
    value = authorization(Credentials("agent7", "s3cret"), parse_challenge(header), "REGISTER", "sip:127.0.0.1")
    answer = parse_answer(value)
    assert answer is not None and (answer.username, answer.nonce) == ("agent7", nonce)
    assert answer.matches("s3cret", "REGISTER")
    assert not answer.matches("wrong", "REGISTER")
    assert not answer.matches("s3cret", "INVITE")
    assert parse_answer("Basic abc") is None


def request() -> SipRequest:
    r = SipRequest(method="INVITE", uri="sip:+8613812345678@trunk")
    for name, value in (("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("From", "<sip:d@h>;tag=1"), ("To", "<sip:x@t>"),
                        ("Call-ID", "c"), ("CSeq", "1 INVITE")):
        r.add(name, value)
    return r


def test_flow_answers_one_challenge_and_gives_up_on_a_second() -> None:
    flow = auth_flow(request(), Credentials("trunkuser", "pw"), copy.deepcopy)
    first = next(flow)
    challenge = SipResponse(status=407, reason="Proxy Authentication Required")
    challenge.add("Proxy-Authenticate", 'Digest realm="carrier", nonce="abc"')
    second = flow.send(challenge)
    assert second.get("CSeq") == "2 INVITE" and (second.get("Proxy-Authorization") or "").startswith("Digest username=")
    assert first.get("Proxy-Authorization") is None
    try:
        flow.send(challenge)
        raise AssertionError("the flow should stop after its credentials were refused")
    except StopIteration:
        pass


def test_a_quoted_uri_with_parameters_is_verified_whole() -> None:
    """baresip signs `uri="sip:host:port;transport=udp"`: the ';' inside the quotes is part of the uri."""
    challenge = Challenge(realm="dunline", nonce="n1", qop="auth")
    header = authorization(Credentials("agent1", "pw"), challenge, "REGISTER", "sip:127.0.0.1:5060;transport=udp")
    answer = parse_answer(header)
    assert answer is not None and answer.uri == "sip:127.0.0.1:5060;transport=udp" and answer.matches("pw", "REGISTER")
