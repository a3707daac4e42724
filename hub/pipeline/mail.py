"""The hub's own e-mail: one message over SMTP (``[email]``), plain text with an HTML alternative.

The Message-ID is fixed per notice, so a message re-sent after a lost answer from the server
is the same message to the customer's mail client.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from hub.runtime.config import EmailSettings

# what an SMTP exchange can fail with: all retried by the notice job (the message is the same)
SMTP_FAILURES = (smtplib.SMTPException, OSError)


def configured(settings: EmailSettings) -> bool:
    return bool(settings.host)


def send(
    settings: EmailSettings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    reply_to: str | None,
) -> str:
    """Hand the message to the SMTP server; returns its Message-ID. Raises on any refusal."""
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    assert settings.host is not None
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password)
        refused = smtp.send_message(message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return message_id
