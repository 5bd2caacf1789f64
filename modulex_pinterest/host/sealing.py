"""Credentials encrypted at rest, with a key the host holds.

A credentials file or Redis value holds the app secret and a working refresh
token: anyone who reads the file, a backup of it, a Redis snapshot or its
``MONITOR`` stream would hold the grant. With a key set, the reference stores
write them sealed (Fernet: AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package, ``pip install 'modulex-pinterest[crypto]'``), as
n8n does with ``N8N_ENCRYPTION_KEY`` and Airflow with its Fernet key:

* ``MODULEX_PINTEREST_KEY``: one or more Fernet keys, comma-separated; or
  ``MODULEX_PINTEREST_KEY_FILE``: a file holding them, one per line, readable
  by its owner only. The first key seals; every key opens, so a key is rotated
  by putting the new one first, running ``modulex-pinterest auth encrypt
  --credentials STORE`` (which re-seals with it), then dropping the old one.
* A sealed value is a JSON object ``{"modulex_sealed": "fernet", "refresh_mark":
  ..., "data": ...}``. ``refresh_mark`` is the SHA-1 of the refresh token (a
  fingerprint that cannot be turned back into the token), so the Redis
  compare-and-swap can run on the server without the token ever being sent.
* A plain store keeps working, and is sealed on its next write once a key is
  set (or at once with ``auth encrypt``). A sealed store read without a key,
  or with none of the keys that sealed it, fails saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from typing import TYPE_CHECKING, Any, cast

from ..contract import Credentials
from .errors import StoreError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

KEY_VARIABLE = "MODULEX_PINTEREST_KEY"
KEY_FILE_VARIABLE = "MODULEX_PINTEREST_KEY_FILE"
SEALED = "modulex_sealed"
NO_KEY = (
    f"set {KEY_VARIABLE} (or {KEY_FILE_VARIABLE}) to the key they were sealed with; "
    "see the README's section on encrypted credentials"
)


def refresh_mark(refresh_token: str) -> str:
    """The SHA-1 of a refresh token, as Redis's ``redis.sha1hex`` computes it: what a swap compares."""
    return hashlib.sha1(refresh_token.encode()).hexdigest()  # noqa: S324 - a fingerprint of a random token


def _keys_from_environment() -> list[str]:
    named = os.environ.get(KEY_VARIABLE, "")
    keys = [key.strip() for key in named.split(",") if key.strip()]
    path = os.environ.get(KEY_FILE_VARIABLE)
    if path and not keys:
        try:
            with open(path, encoding="utf-8") as handle:
                mode = os.fstat(handle.fileno()).st_mode
                if mode & (stat.S_IRWXG | stat.S_IRWXO):
                    raise StoreError(f"{KEY_FILE_VARIABLE} names {path}, which others may read: chmod 600 it")
                keys = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
        except OSError as exc:
            raise StoreError(f"cannot read the key file {path} named by {KEY_FILE_VARIABLE}: {exc.strerror}") from None
    return keys


class Sealer:
    """Seals credentials for a store and opens what a store holds.

    Without keys it writes plain JSON objects and opens only plain ones.
    """

    def __init__(self, keys: list[str] | None = None) -> None:
        self._keys = list(keys or [])
        self._fernet: MultiFernet | None = None

    @classmethod
    def from_environment(cls) -> Sealer:
        """The keys in ``MODULEX_PINTEREST_KEY`` or the file ``MODULEX_PINTEREST_KEY_FILE`` names."""
        return cls(_keys_from_environment())

    def __repr__(self) -> str:
        return f"Sealer(keys={len(self._keys)})"

    @property
    def sealing(self) -> bool:
        return bool(self._keys)

    def _multi(self) -> MultiFernet:
        if self._fernet is None:
            try:
                from cryptography.fernet import Fernet, MultiFernet
            except ImportError:
                raise StoreError(
                    "encrypted credentials need the cryptography package: pip install 'modulex-pinterest[crypto]'"
                ) from None
            try:
                self._fernet = MultiFernet([Fernet(key) for key in self._keys])
            except (ValueError, TypeError):
                raise StoreError(
                    f"a key in {KEY_VARIABLE} or {KEY_FILE_VARIABLE} is not a Fernet key (32 bytes, URL-safe "
                    "base64: make one with `modulex-pinterest auth new-key`)"
                ) from None
        return self._fernet

    def seal(self, credentials: Credentials) -> dict[str, Any]:
        """What the store writes: ``credentials`` sealed with the first key, or as they are without keys."""
        if not self._keys:
            return dict(credentials)
        data = self._multi().encrypt(json.dumps(credentials).encode()).decode()
        sealed: dict[str, Any] = {SEALED: "fernet", "data": data}
        if credentials.get("refresh_token"):
            sealed["refresh_mark"] = refresh_mark(str(credentials["refresh_token"]))
        return sealed

    def open(self, stored: Any, where: str) -> Credentials:
        """The credentials in ``stored`` (what a store read, parsed), plain or sealed."""
        if not isinstance(stored, dict):
            raise StoreError(f"{where} holds something that is not a JSON object of credentials")
        if SEALED not in stored:
            return cast(Credentials, stored)  # a JSON object: the plugin checks each field it uses
        if stored[SEALED] != "fernet" or not isinstance(stored.get("data"), str):
            raise StoreError(f"{where} holds sealed credentials in a form this version cannot read")
        if not self._keys:
            raise StoreError(f"the credentials at {where} are encrypted: {NO_KEY}")
        from cryptography.fernet import InvalidToken

        try:
            opened = json.loads(self._multi().decrypt(stored["data"].encode()))
        except InvalidToken:
            raise StoreError(
                f"none of the keys in {KEY_VARIABLE} or {KEY_FILE_VARIABLE} opens the credentials at {where}: "
                "set the key they were sealed with (first or among the others)"
            ) from None
        if not isinstance(opened, dict):
            raise StoreError(f"{where} holds sealed data that is not a JSON object of credentials")
        return cast(Credentials, opened)


def new_key() -> str:
    """A fresh Fernet key."""
    try:
        from cryptography.fernet import Fernet
    except ImportError:
        raise StoreError(
            "making a key needs the cryptography package: pip install 'modulex-pinterest[crypto]'"
        ) from None
    return Fernet.generate_key().decode()
