"""Downloads the plugin makes itself (``video_url``), refused on non-public addresses.

The check runs at connection time, on the address each connection actually
reached: a urllib3 connection class checks its socket's peer address right
after the TCP connect, before TLS or any byte of the request is sent. So it
covers every redirect hop (each new host is a new connection) and DNS answers
that change between a check and the connect (rebinding): there is no separate
resolve-then-connect step to race. Loopback, private, link-local, shared
(CGNAT), reserved, multicast and unspecified addresses are refused unless the
host's ``allow_private_network`` setting is true. The download session ignores
proxy settings from the environment (a proxy would make the peer the proxy)
and ``~/.netrc``, and sends no token.

URLs only passed on to Pinterest (image URLs) are not fetched here and not checked.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5


class PrivateAddressError(Exception):
    """A download reached a non-public address. Not an OSError, so urllib3 neither retries nor wraps it."""

    def __init__(self, host: str, address: str, why: str) -> None:
        super().__init__(f"{host} is at {address}, {why}")
        self.host = host
        self.address = address
        self.why = why


def non_public_reason(address: str) -> str | None:
    """Why ``address`` (an IP) is not a public one, or None when it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, why in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_reserved, "a reserved address"),
    ):
        if test:
            return why
    if not ip.is_global:
        return "not a public address"
    return None


class _GuardedConnection:
    """A urllib3 connection that refuses a non-public peer right after connecting."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]  # the urllib3 class it is mixed into
        try:
            address = sock.getpeername()[0]
        except OSError:
            address = ""
        why = non_public_reason(address)
        if why is not None:
            sock.close()
            raise PrivateAddressError(self.host, address, why)
        return sock


class _GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedHTTPAdapter(HTTPAdapter):
    """requests' adapter whose connections refuse non-public peers."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def download_session(allow_private_network: bool) -> requests.Session:
    """A session for downloads: no token, no proxy or netrc from the environment, bounded redirects,
    and (unless ``allow_private_network``) connections only to public addresses."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    adapter = HTTPAdapter(max_retries=0) if allow_private_network else GuardedHTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept-Encoding"] = "identity"  # the bytes as stored: their length is the upload's
    return session
