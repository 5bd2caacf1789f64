"""The one error the reference host's credential stores raise, and how Redis failures become one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


class StoreError(Exception):
    """A credential store or shared budget could not do what was asked
    (unreachable, refused, or holding something that is not credentials).

    The message says what failed and never carries a secret (a password in a
    store's URL, a token), so a host may show it or log it as it is.
    """


def redis_password_forms(client: Any) -> tuple[str, ...]:
    """The client's password, as given and URL-quoted, to scrub from messages."""
    pool = getattr(client, "connection_pool", None)
    password = (getattr(pool, "connection_kwargs", None) or {}).get("password")
    return (password, quote(password, safe="")) if password else ()


def redis_failure(what: str, error: Exception, hidden: tuple[str, ...]) -> StoreError:
    """A :class:`StoreError` saying what failed and why, with no secret in it: the client's own
    words (its exception's type only when it has none, never a repr)."""
    detail = " ".join(str(error).split()) or type(error).__name__
    for secret in hidden:
        detail = detail.replace(secret, "***")
    return StoreError(f"could not {what} ({detail})")
