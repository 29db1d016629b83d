"""E-mail to the towns' staff (#29), through SMTP when ``MAIL_SERVER`` is configured; without it nothing is sent and
the pages say so (the home page and the board remain how a town learns of an invitation or a reminder).

Who receives: the active municipality accounts of a body whose login name is an e-mail address (the accounts CSV
import makes the address the login name); a body without one gets no mail, which the board already tells
(planner.services.outreach). Plain ``smtplib`` over one connection per action: no queue, so a refused or
unreachable server is reported to the person who pressed the button, whose action stands.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from sqlmodel import Session, col, select

from planner.db.models import Body, User

from . import access

PRODUCT = "共同調達プランナー"


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int = 25
    use_tls: bool = False  # STARTTLS after connecting
    use_ssl: bool = False  # SMTPS from the start
    username: str | None = None
    password: str | None = None
    sender: str = "noreply@localhost"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings | None:
        """The settings (planner.config's ``MAIL_*``), or None when no ``MAIL_SERVER`` is configured."""
        server = config.get("MAIL_SERVER")
        if not server:
            return None
        return cls(
            server=str(server),
            port=int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=str(config.get("MAIL_DEFAULT_SENDER") or "noreply@localhost"),
            timeout=float(config.get("MAIL_TIMEOUT") or 10.0),
        )


def addresses(session: Session, body_codes: Iterable[str]) -> dict[str, list[str]]:
    """{body code: the e-mail addresses of its active staff accounts}, bodies without one left out."""
    codes = set(body_codes)
    out: dict[str, list[str]] = {}
    if not codes:
        return out
    for code, username in session.exec(
        select(col(User.body_code), col(User.username))
        .where(col(User.body_code).in_(codes), col(User.role) == access.MUNICIPALITY, col(User.is_active) == True)  # noqa: E712
        .order_by(col(User.id))
    ):
        if "@" in username and code is not None:
            out.setdefault(code, []).append(username)
    return out


def send(settings: MailSettings, messages: list[EmailMessage]) -> int:
    """Send ``messages`` over one connection; returns how many were sent. Raises OSError/SMTPException when the
    server cannot be reached or refuses (the caller tells the user; nothing is retried)."""
    if not messages:
        return 0
    if settings.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.use_tls and not settings.use_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        for message in messages:
            if "From" not in message:
                message["From"] = formataddr((PRODUCT, settings.sender))
            smtp.send_message(message)
    return len(messages)


def _message(to: list[str], subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = ", ".join(to)
    message["Subject"] = f"【{PRODUCT}】{subject}"
    message.set_content(text)
    return message


def _bodies(session: Session, codes: Iterable[str]) -> dict[str, str]:
    return dict(session.exec(select(col(Body.code), col(Body.name)).where(col(Body.code).in_(set(codes)))).all())


def notify(
    session: Session, config: Mapping[str, Any], body_codes: Iterable[str], subject: str, text: str
) -> int | None:
    """One message to each body's staff with an address: ``text`` may name the body as ``{body}``. Returns how
    many were sent, or None when no mail server is configured (nothing is attempted)."""
    settings = MailSettings.from_config(config)
    if settings is None:
        return None
    codes = list(body_codes)
    to = addresses(session, codes)
    names = _bodies(session, codes)
    return send(settings, [_message(to[c], subject, text.format(body=names.get(c, c))) for c in codes if c in to])


def invitation_text(partnership_name: str, lead_name: str, category_name: str, message: str, url: str) -> str:
    note = f"\n幹事団体から：\n{message}\n" if message else ""
    return (
        "{body} ご担当者 様\n\n"
        f"{lead_name}が幹事団体を務める「{partnership_name}」（{category_name}の共同調達）から、参加の招待が届いています。\n"
        f"{note}\n次の画面で参加・辞退を回答してください。\n{url}\n"
    )


def reminder_text(label: str, deadline: str, url: str) -> str:
    return (
        "{body} ご担当者 様\n\n"
        f"{label}への参加の意向の回答をお願いします（回答期限 {deadline}）。\n"
        f"次の画面で回答してください。\n{url}\n"
    )


def notify_each(session: Session, config: Mapping[str, Any], subject: str, texts: Mapping[str, str]) -> int | None:
    """One message to each body's staff with an address, each body its own ``text`` (its own amounts), which may
    name the body as ``{body}``. Returns how many were sent, or None without a mail server (nothing attempted)."""
    settings = MailSettings.from_config(config)
    if settings is None:
        return None
    to = addresses(session, texts)
    names = _bodies(session, texts)
    return send(
        settings,
        [_message(to[c], subject, text.replace("{body}", names.get(c, c))) for c, text in texts.items() if c in to],
    )


def _stage_text(heading: str, lines: Iterable[str], url: str) -> str:
    body = "\n".join(lines)
    return f"{{body}} ご担当者 様\n\n{heading}\n\n{body}\n\n詳しくは次の画面（契約・請求・精算）でご確認ください。\n{url}\n"


def confirmed_text(group: str, lead_name: str, estimated_yen: int, confirmed_yen: int, url: str) -> str:
    """The 確定負担額 a member must now budget for: the contract result applied by the agreed rule."""
    return _stage_text(
        f"{group}の契約結果を{lead_name}が記録し、確定負担額が決まりました。確定負担額通知（PDF）を発行しています。",
        (
            f"確定負担額（期間の合計）：{confirmed_yen:,}円",
            f"見込額（計画）：{estimated_yen:,}円",
            f"差額：{confirmed_yen - estimated_yen:+,}円",
        ),
        url,
    )


def invoice_text(group: str, lead_name: str, title: str, number: str, amount_yen: int, due: str, url: str) -> str:
    """A 請求書 (or a 精算's 追加請求 / 還付) issued to the member by the lead."""
    return _stage_text(
        f"{group}について、{lead_name}が{title}を発行しました。",
        (f"番号：{number}", f"金額：{amount_yen:,}円", f"期限：{due}"),
        url,
    )


def withdrawal_text(group: str, leaver: str, last_year: str, totals: tuple[int, int] | None, url: str) -> str:
    """To the members who stay: a member left, and the later years are split among the rest by the same rule."""
    lines = [
        f"{leaver}が{last_year}までの参加で脱退します。以後の年度の費用は、残る団体で協定の規則により按分し直します。"
    ]
    if totals is not None:
        before, after = totals
        lines += [f"貴団体の確定負担額（期間の合計）：{before:,}円 → {after:,}円（{after - before:+,}円）"]
    return _stage_text(f"{group}の参加団体が脱退します。", lines, url)
