"""E-mail over SMTP (aiosmtplib): a plain-text body with an HTML alternative, zh or en, UTF-8 throughout.

The server's acceptance (250) is the message's `submitted`; mail servers send no delivery receipts, so an
e-mail stays submitted unless the server refuses it or a bounce report names it later (`messaging.bounce`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str  # the From address
    sender_name: str = ""
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str  # the plain part; the HTML part is made from it
    language: str = "zh"


def compose(config: SmtpConfig, email: Email, domain: str = "dunline.local") -> EmailMessage:
    """The MIME message: multipart/alternative, plain first, then HTML (the preferred part last, RFC 2046)."""
    message = EmailMessage()
    message["From"] = formataddr((config.sender_name, config.sender)) if config.sender_name else config.sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=config.sender.partition("@")[2] or domain)
    message.set_content(email.text, charset="utf-8")
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in email.text.split("\n\n"))
    message.add_alternative(f'<!doctype html><html lang="{email.language}"><head><meta charset="utf-8">'
                            f"<title>{html.escape(email.subject)}</title></head><body>{paragraphs}</body></html>",
                            subtype="html", charset="utf-8")
    message["Content-Language"] = "zh-CN" if email.language == "zh" else "en"  # after set_content, which clears it
    return message


class EmailChannel:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, email: Email) -> str:
        """Send one e-mail; returns its Message-ID. Raises `aiosmtplib.SMTPException` (or OSError) if refused."""
        message = compose(self.config, email)
        await aiosmtplib.send(message, hostname=self.config.host, port=self.config.port,
                              username=self.config.username, password=self.config.password,
                              start_tls=self.config.starttls, timeout=self.config.timeout_s)
        return str(message["Message-ID"])
