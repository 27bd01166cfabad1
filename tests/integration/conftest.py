"""The real peers the integration tests talk to."""

import pytest

from tests.conftest import require


@pytest.fixture
def sipp_installed() -> None:
    require("sipp")
