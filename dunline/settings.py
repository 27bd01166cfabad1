"""One typed settings object: environment (`DUNLINE_*`), an optional TOML file, embedded defaults.

Precedence, highest first: explicit keyword arguments, environment variables, the TOML file named by
`DUNLINE_CONFIG` (or passed to `load_settings`), the secrets `dunline db upgrade` generated under data_dir
(`dunline.installation`), then the defaults below, which run everything embedded under `./var/` (SQLite
file, an embedded Redis-compatible server on a unix socket).
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dunline.installation import InstallationSecretsSource


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUNLINE_", extra="forbid")

    data_dir: Path = Field(Path("var"), validate_default=True,
                           description="Where the embedded database, Redis socket and recordings live")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file under data_dir")
    redis_url: str | None = Field(None, description="Redis URL (redis://, rediss://, unix://, or "
                                  "redis+sentinel://[:password@]host:port[,host:port...]/service[/db]); default: "
                                  "an embedded server on a unix socket")
    default_region: str = Field("CN", description="ISO region used to read phone numbers written without +country")
    default_timezone: str = Field("Asia/Shanghai", description="Zone used for dates in imports and reports")
    user: str | None = Field(None, description="Operator the CLI signs in as at its password prompt; never "
                             "believed alone (dunline.identity)")
    token: SecretStr | None = Field(None, description="API token the CLI acts with (DUNLINE_TOKEN): its owner is "
                                    "the actor")
    node_id: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,40}$",
                                description="This node's id in a cluster sharing one PostgreSQL case store: a "
                                "running campaign then runs on every node at once, each for its own agents "
                                "(campaigns/lease.py); unset: one node, one runner per campaign")
    campaign_lease_s: float = Field(30.0, gt=0, description="Seconds a dead node's campaign leases and agent "
                                    "seats outlive it; then the other nodes close its calls as interrupted and "
                                    "call its agents' phones")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    http_tls_cert: Path | None = Field(None, description="PEM certificate (chain) the console and API serve HTTPS "
                                       "with; plain HTTP is served on loopback only (dunline.exposure)")
    http_tls_key: Path | None = Field(None, description="PEM private key of http_tls_cert")
    secret_key: SecretStr = Field(SecretStr("change-me"), description="Signs console sessions")
    session_idle_s: float = Field(1800.0, gt=0, description="A console session unused this long ends")
    session_lifetime_s: float = Field(12 * 3600.0, gt=0, description="A console session ends this long after "
                                      "its sign-in, however busy")
    totp_required_roles: list[str] = Field(["admin", "compliance_reviewer"], description="Roles that must sign "
                                           "in with a TOTP code; such a user without one may only enrol one")
    signin_max_failures: int = Field(5, ge=1, description="Failed console sign-ins of one user before a block")
    signin_max_source_failures: int = Field(20, ge=1, description="Failed console sign-ins from one address "
                                            "before it is blocked")
    signin_block_s: float = Field(60.0, gt=0, description="First console sign-in block; each further failure "
                                  "while still failing doubles it")
    log_level: str = "INFO"
    sip_host: str = Field("127.0.0.1", description="Address the SIP user agent, registrar and RTP bind to")
    sip_port: int = Field(5060, description="SIP port (UDP) for agents' phones and a UDP trunk")
    sip_tls_port: int = Field(5061, description="SIP-over-TLS port for agents' phones (with sip_tls_cert/sip_tls_key); "
                                                 "their calls' media is SRTP")
    sip_tls_cert: Path | None = Field(None, description="PEM certificate (chain) of the SIP-over-TLS listener; unset: "
                                                        "no TLS listener")
    sip_tls_key: Path | None = Field(None, description="PEM private key of sip_tls_cert")
    sip_realm: str = Field("dunline", description="Digest realm of the registrar")
    agent_sip_secret: SecretStr = Field(SecretStr("change-me-too"),
                                        description="Derives each agent's SIP password (dunline users sip-password)")
    trunk_host: str | None = Field(None, description="The carrier's SIP host; no trunk, no outbound calls")
    trunk_port: int = 5060
    trunk_transport: str = Field("udp", pattern="^(udp|tcp|tls)$")
    trunk_username: str | None = None
    trunk_password: SecretStr | None = None
    trunk_outbound_proxy: str | None = Field(None, description="host:port every trunk request goes through")
    trunk_caller_id: str | None = Field(None, description="Default caller ID; campaigns may set their own")
    sip_agent_proxy: str | None = Field(None, description="host:port of the SIP front agents' phones register "
                                        "with in a cluster (kamailio, deploy/kamailio/cluster.cfg): a node calls "
                                        "an agent's phone there as sip:<agent>@host:port")
    rtpengine: str | None = Field(None, description="host:port of an rtpengine's ng control socket: the media of "
                                  "plain-RTP calls is anchored, bridged and recorded there (deploy/rtpengine); "
                                  "unset: all media in this process")
    rtpengine_recordings: Path | None = Field(None, description="rtpengine's --recording-dir as this host sees it "
                                              "(required with rtpengine: the bridged part of a call is heard only "
                                              "there)")
    ring_timeout_s: float = Field(25.0, description="Never below the rule pack's minimum ring time")
    sip_auth_max_failures: int = Field(10, ge=1, description="Wrong digest answers from one address before the "
                                       "registrar blocks it")
    sip_auth_max_user_failures: int = Field(20, ge=1, description="Wrong digest answers for one user, from "
                                            "anywhere, before it is blocked (its registered phones excepted)")
    sip_auth_block_s: float = Field(300.0, gt=0, description="First block after too many wrong answers; each "
                                    "further one before a success doubles it")
    sip_rate_per_source: float = Field(100.0, gt=0, description="SIP datagrams (or TCP/TLS messages) a second one "
                                       "source address may send; past it (and its burst) they are dropped and a "
                                       "connection closed, logged with the source")
    sip_burst_per_source: int = Field(300, ge=1, description="SIP datagrams one source may send at once")
    sip_connections_per_source: int = Field(20, ge=1, description="SIP TCP/TLS connections one source address "
                                            "may hold open at once (a phone holds one); more are reset before "
                                            "their TLS handshake, logged with the source")
    sip_connects_per_source: float = Field(2.0, gt=0, description="New SIP TCP/TLS connections a second one "
                                           "source may open, after a burst of sip_connections_per_source")
    sip_inbound_sources: list[str] = Field([], description="host:port of a carrier's signalling that may send us "
                                           "INVITEs besides the trunk's own address; any other source that is not "
                                           "a registered phone is refused 403")
    drain_s: float = Field(30.0, ge=0, description="On SIGTERM serve stops dialling and lets calls in progress "
                           "end for at most this long, then hangs up the rest and exits")
    ivr_spoken_answers: bool = Field(True, description="The IVR hears spoken answers where its flow asks for "
                                      "one (Mandarin amounts); off: those questions go straight to the keypad")
    company_name: str = Field("Dunline Services", description="Named in the safe-harbour and voicemail messages")
    company_phone: str = Field("four zero zero, eight zero zero, one two three four",
                               description="The call-back number the required messages give, as spoken")
    company_person: str = Field("Amy", description="Who the voicemail message says is calling")
    transcription_workers: int = Field(1, ge=0, le=64, description="Transcription worker processes `dunline "
                                       "serve` starts (0: none; `dunline worker` runs them on other machines)")
    transcription_language: str = Field("en", description="Language whose model the transcription workers load "
                                        "at start; a call is transcribed in its campaign's or case's language "
                                        "(never detected), other models load on first use")
    smpp_host: str | None = Field(None, description="The SMS carrier's SMSC (SMPP 3.4); no host, no SMS")
    smpp_port: int = Field(2775, description="SMPP port of the SMSC")
    smpp_system_id: str = Field("dunline", description="SMPP system_id the transceiver binds with")
    smpp_password: SecretStr | None = Field(None, description="SMPP bind password")
    smpp_source: str = Field("10690000", description="Sender address of our SMS (short code or number)")
    smtp_host: str | None = Field(None, description="Mail server e-mails are sent through; no host, no e-mail")
    smtp_port: int = Field(25, description="SMTP port (587 with smtp_starttls)")
    smtp_from: str = Field("collections@dunline.local", description="From address of our e-mails")
    smtp_from_name: str = Field("", description="Display name of the From address")
    smtp_username: str | None = Field(None, description="SMTP AUTH user, if the server wants one")
    smtp_password: SecretStr | None = Field(None, description="SMTP AUTH password")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS")
    bounce_port: int | None = Field(None, description="Port serve receives bounce reports (DSNs) on by SMTP, "
                                    "forwarded by the mail server for smtp_from; none: bounces are only seen "
                                    "as refusals at submission")
    bounce_host: str = Field("127.0.0.1", description="Address the bounce listener binds to (loopback: the "
                             "mail server forwards from this machine)")
    report_daily_at: time | None = Field(None, description="Local time (default_timezone, HH:MM) from which "
                                         "serve mails yesterday's summary to report_daily_to, once a day")
    report_daily_to: list[str] = Field([], description="Managers' e-mail addresses for the daily summary")

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        """Resolved once, against the directory the settings load in: every path derived from it (recordings
        stored on attempts, prompts, the Redis socket) then names the same file to a process started elsewhere."""
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.http_tls_cert is None) != (self.http_tls_key is None):
            raise ValueError("http_tls_cert and http_tls_key go together: set both or neither")
        if (self.sip_tls_cert is None) != (self.sip_tls_key is None):
            raise ValueError("sip_tls_cert and sip_tls_key go together: set both or neither")
        if self.rtpengine and self.rtpengine_recordings is None:
            raise ValueError("rtpengine needs rtpengine_recordings (its --recording-dir as seen here): a bridged "
                             "call's audio passes only through rtpengine, so only it can record that part")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = os.environ.get("DUNLINE_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        sources.append(InstallationSecretsSource(settings_cls, tuple(sources)))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'dunline.db').resolve()}"

    @property
    def redis_socket(self) -> Path:
        return (self.data_dir / "redis.sock").resolve()

    def masked(self) -> dict[str, Any]:
        """The effective settings with secrets (and passwords inside URLs) hidden, for display."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif name.endswith("_url") and isinstance(value, str):
                value = mask_url_password(value)
            shown[name] = value
        shown["database_url (effective)"] = mask_url_password(self.effective_database_url)
        shown["redis_url (effective)"] = (
            mask_url_password(self.redis_url) if self.redis_url else f"embedded, unix://{self.redis_socket}"
        )
        return shown


def mask_url_password(url: str) -> str:
    """`scheme://user:secret@host` -> `scheme://user:***@host`; other URLs unchanged."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; `config_file` takes the place of `DUNLINE_CONFIG` for this call."""
    if config_file is not None:
        if not config_file.exists():
            raise FileNotFoundError(f"config file not found: {config_file}")
        previous = os.environ.get("DUNLINE_CONFIG")
        os.environ["DUNLINE_CONFIG"] = str(config_file)
        try:
            return Settings(**overrides)
        finally:
            if previous is None:
                os.environ.pop("DUNLINE_CONFIG", None)
            else:
                os.environ["DUNLINE_CONFIG"] = previous
    return Settings(**overrides)
