"""Sealed column values (crypto.columns): the stored text and the tokens are a format that rows already on file
and their lookups depend on, so they are pinned by known answers; the one-pass seal and token agree with the
separate ones; what is not a sealed value, or was altered, opens to an error."""

from __future__ import annotations

import base64

import pytest

from crypto import ColumnCipher, SealedValueError
from crypto.batch_siv import SMALL_GROUP

KEY = bytes(range(64))
# (plain, stored text, token), made by the first release of the format (s1, commit 5ba6b34).
KNOWN = [
    ("", "s1:1PxTucRMKu6oe_uMmDsTbA", "1PxTucRMKu6oe_uMmDsTbA"),
    ("1", "s1:O9cvqG7RHzCkxRJvuXD16kE", "O9cvqG7RHzCkxRJvuXD16g"),
    ("110101199003074514", "s1:FChWO9-chKtM3rWUQysnQM3BWzdSvBryBmAb6XhAazofUQ", "FChWO9-chKtM3rWUQysnQA"),
    ("+8613812345678", "s1:b9FmIKrvOsSoIdGZFs-myebCEImWrQocYHBw2sdJ", "b9FmIKrvOsSoIdGZFs-myQ"),
    ("朝阳区建国路88号", "s1:V6GhuUqj-EHI8EboXIf0F3cF8wqxCkxTpm0v4N-eQEcQz2HgLjeA", "V6GhuUqj-EHI8EboXIf0Fw"),
    ("1990-03-07", "s1:Jy3yhyeQ04WZjYRCNPFJ_vOZez1oUaosAv0", "Jy3yhyeQ04WZjYRCNPFJ_g"),
]


@pytest.mark.parametrize(("plain", "stored", "token"), KNOWN)
def test_sealed_text_and_token_keep_their_format(plain: str, stored: str, token: str) -> None:
    cipher = ColumnCipher(KEY)
    assert cipher.seal(plain) == stored
    assert cipher.token(plain) == token
    assert cipher.seal_with_tokens([plain]) == ([stored], [token])
    assert cipher.open(stored) == plain


def test_the_token_is_the_sealed_values_siv() -> None:
    cipher = ColumnCipher(KEY)
    plains = ["x" * length for length in range(40)]  # every padding case of the base64 text
    for plain, stored, token in zip(plains, *cipher.seal_with_tokens(plains)):
        body = stored.removeprefix("s1:")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        assert base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)) == raw[:16]
        assert cipher.open(stored) == plain


@pytest.mark.parametrize("stored", [
    "110101199003074514",  # written in clear
    "s1:FChWO9-chKtM3rWUQysnQM3BWzdSvBryBmAb6XhAazofUg",  # last character altered
    "s1:GChWO9-chKtM3rWUQysnQM3BWzdSvBryBmAb6XhAazofUQ",  # the SIV altered
    "s1:FChWO9-chKtM3rWUQysnQM3BWzdSvBryBmAb6XhAazofU",  # cut by one character
    "s1:FChWO9-chKtM3rWUQysnQM3BWzdSvBryBmAb6XhAazo",  # cut by a whole block of text
    "s1:FChWO9-chKtM3rWUQysnQM3BWzdSvBryBmAb6XhAazofUQé",  # not base64
    "s1:",
])
def test_what_is_not_a_sealed_value_opens_to_an_error(stored: str) -> None:
    with pytest.raises(SealedValueError):
        ColumnCipher(KEY).open(stored)


def test_another_key_opens_nothing() -> None:
    with pytest.raises(SealedValueError):
        ColumnCipher(bytes(64)).open(KNOWN[2][1])


def test_a_column_sealed_at_once_is_sealed_as_each_value_alone() -> None:
    """seal_all (a bulk import's path) writes the very text seal does, in order, for every padding case and the
    known answers, alone and many of a length (BatchSiv's two paths); None stays None in its place."""
    cipher = ColumnCipher(KEY)
    values = [plain for plain, _, _ in KNOWN] + ["x" * length for length in range(40)]
    assert cipher.seal_all(values) == [cipher.seal(value) for value in values]
    assert cipher.seal_all(values * SMALL_GROUP) == [cipher.seal(value) for value in values] * SMALL_GROUP
    assert cipher.seal_with_tokens([KNOWN[2][0]] * SMALL_GROUP) == ([KNOWN[2][1]] * SMALL_GROUP,
                                                                     [KNOWN[2][2]] * SMALL_GROUP)
    assert cipher.seal_all([KNOWN[3][0], None, KNOWN[2][0]]) == [KNOWN[3][1], None, KNOWN[2][1]]
    assert cipher.seal_all([]) == [] and cipher.seal_all([None]) == [None]
    assert cipher.seal_with_tokens([]) == ([], [])
