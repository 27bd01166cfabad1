from pathlib import Path

import pytest
from pydantic import ValidationError

from dunline.settings import load_settings, mask_url_password


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DUNLINE_DATABASE_URL", "DUNLINE_REDIS_URL", "DUNLINE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.effective_database_url.startswith("sqlite:///") and settings.effective_database_url.endswith("var/dunline.db")
    assert settings.redis_url is None


def test_environment_beats_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "dunline.toml"
    config.write_text('default_region = "US"\nhttp_port = 9000\nsecret_key = "s3cret"\n'
                      'database_url = "postgresql://app:pw@db/dunline"\n')
    monkeypatch.setenv("DUNLINE_HTTP_PORT", "9100")
    settings = load_settings(config)
    assert settings.default_region == "US" and settings.http_port == 9100
    shown = settings.masked()
    assert shown["secret_key"] == "********" and "pw" not in str(shown) and "s3cret" not in str(shown)


def test_unknown_key_in_toml_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('no_such_setting = 1\n')
    with pytest.raises(ValidationError, match="no_such_setting"):
        load_settings(config)


def test_mask_url_password() -> None:
    assert mask_url_password("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert mask_url_password("sqlite:///var/x.db") == "sqlite:///var/x.db"


def test_rtpengine_without_its_recording_folder_is_an_error(tmp_path: Path) -> None:
    """Anchored in rtpengine, a bridged conversation is heard only there: no folder, no recording of it."""
    config = tmp_path / "media.toml"
    config.write_text('rtpengine = "10.0.0.5:2223"\n')
    with pytest.raises(ValidationError, match="rtpengine_recordings"):
        load_settings(config)
    config.write_text(f'rtpengine = "10.0.0.5:2223"\nrtpengine_recordings = "{tmp_path}"\n')
    assert load_settings(config).rtpengine_recordings == tmp_path
