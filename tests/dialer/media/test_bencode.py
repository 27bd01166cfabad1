import pytest

from dialer.media.bencode import BencodeError, decode, encode


def test_a_command_encodes_with_sorted_keys_and_comes_back() -> None:
    message = {"sdp": "v=0\r\n", "command": "offer", "flags": ["port-latching"], "delete-delay": 0}
    data = encode(message)
    assert data == b"d7:command5:offer12:delete-delayi0e5:flagsl13:port-latchinge3:sdp5:v=0\r\ne"
    assert decode(data) == {"command": b"offer", "delete-delay": 0, "flags": [b"port-latching"], "sdp": b"v=0\r\n"}


def test_strings_are_counted_in_bytes_not_characters() -> None:
    assert encode("催收") == b"6:\xe5\x82\xac\xe6\x94\xb6"
    assert decode(encode({"a": [-3, "催收"]})) == {"a": [-3, "催收".encode()]}


@pytest.mark.parametrize("data", [b"", b"i12", b"ixe", b"l1:a", b"d1:ai1e", b"5:abc", b"x", b"i1ei2e", b"di1ei2ee"])
def test_a_malformed_reply_is_a_bencode_error(data: bytes) -> None:
    with pytest.raises(BencodeError):
        decode(data)


def test_values_bencode_cannot_carry_are_refused() -> None:
    with pytest.raises(BencodeError):
        encode({"record-call": True})
    with pytest.raises(BencodeError):
        encode(1.5)
