"""SDP offer/answer for one G.711 audio stream."""

import pytest

from dialer.sip.sdp import PCMA, PCMU, SdpError, answer_for, describe, parse_sdp

BARESIP_OFFER = (b"v=0\r\no=- 123 456 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
                 b"m=audio 4000 RTP/AVP 9 8 0 96\r\na=rtpmap:9 G722/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
                 b"a=sendrecv\r\nm=video 5000 RTP/AVP 97\r\n")


def test_our_offer_round_trips() -> None:
    stream = parse_sdp(describe("127.0.0.1", 40000))
    assert (stream.host, stream.port, stream.payload_types) == ("127.0.0.1", 40000, (PCMU, PCMA, 101))
    assert stream.event_payload_type == 101 and stream.codec == PCMU and stream.direction == "sendrecv"


def test_answer_picks_the_first_g711_and_echoes_the_event_type() -> None:
    offer = parse_sdp(BARESIP_OFFER)
    assert offer.codec == PCMA and offer.event_payload_type == 96
    body, codec = answer_for(offer, "127.0.0.1", 30000)
    answer = parse_sdp(body)
    assert codec == PCMA and answer.payload_types == (PCMA, 96) and answer.port == 30000


def test_media_level_connection_and_direction_mirror() -> None:
    offer = parse_sdp(b"v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n"
                      b"c=IN IP4 192.0.2.7\r\na=sendonly\r\n")
    assert offer.host == "192.0.2.7" and offer.direction == "sendonly"
    assert b"a=recvonly" in answer_for(offer, "127.0.0.1", 1)[0]


@pytest.mark.parametrize("body", [
    b"", b"\xff\xfe", b"v=0\r\nm=video 1 RTP/AVP 0\r\n", b"v=0\r\nm=audio 1 RTP/AVP 0\r\n",
    b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n", b"v=0\r\nc=IN IP6 ::1\r\nm=audio 1 RTP/AVP 0\r\n",
])
def test_unusable_descriptions_are_refused(body: bytes) -> None:
    with pytest.raises(SdpError):
        parse_sdp(body)


def test_an_offer_without_g711_has_no_codec() -> None:
    offer = parse_sdp(b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 9 18\r\n")
    with pytest.raises(SdpError):
        offer.codec
