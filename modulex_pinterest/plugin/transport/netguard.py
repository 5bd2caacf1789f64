"""Downloads the plugin makes itself (``video_url``): refused on non-public
addresses before any connection is made, and read within the action's deadline.

Each connection resolves its host once, checks every address the lookup
returned, and connects only to those checked addresses (the IP itself, so
there is no second lookup for a rebinding DNS server to answer differently);
TLS still names the host (SNI and the certificate check) and the request its
``Host``. A host with any non-public address is refused before a socket is
opened, so the refusal says the same whether anything listens there: no
network oracle. A redirect's new host is a new connection, checked the same
way. The lookup is bounded by the connect timeout (a thread waits for it).
Loopback, private, link-local, shared (CGNAT), reserved, multicast and
unspecified addresses are refused unless the host's ``allow_private_network``
setting is true. The download session ignores proxy settings from the
environment (a proxy would connect for us) and ``~/.netrc``, sends no token,
and its connections are watched like the API's (:mod:`.watchdog`): an answer
still arriving at the action's deadline is closed.

URLs only passed on to Pinterest (image URLs) are not fetched here and not checked.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import requests
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from .watchdog import WatchedHTTPAdapter, WatchedHTTPConnection, WatchedHTTPSConnection

MAX_REDIRECTS = 5  # hops a download follows (the caller follows them, each checked here)


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
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
    ):
        if test:
            return why
    if not ip.is_global:
        return "not a public address"
    return None


def _lookup(host: str, port: int, timeout: float | None) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` for a TCP connection, given at most ``timeout`` seconds (it has no timeout of its own)."""
    literal = host.strip("[]")
    try:
        ipaddress.ip_address(literal.split("%", 1)[0])
    except ValueError:
        pass
    else:  # an IP literal: no lookup
        return socket.getaddrinfo(literal, port, allowed_gai_family(), socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    answer: list[Any] = []
    done = threading.Event()

    def look() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM))
        except OSError as exc:
            answer.append(exc)
        done.set()

    threading.Thread(target=look, name="modulex-pinterest-lookup", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"looking up {host} took over {timeout} s")
    if isinstance(answer[0], OSError):
        raise answer[0]
    return list(answer[0])


class _GuardedConnection:
    """A urllib3 connection that resolves its host once, refuses it if any address is not
    public, and connects only to the addresses it checked."""

    host: str
    port: int
    timeout: Any
    source_address: tuple[str, int] | None
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        timeout = None if self.timeout is _DEFAULT_TIMEOUT else self.timeout
        try:
            found = _lookup(self._dns_host, self.port, timeout)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"{exc} (connect timeout={timeout})") from exc
        addresses = list(dict.fromkeys(str(entry[4][0]) for entry in found))
        for address in addresses:
            why = non_public_reason(address)
            if why is not None:
                raise PrivateAddressError(self.host, address, why)
        error: OSError = OSError(f"{self.host} has no address")
        for address in addresses:
            try:
                return create_connection((address, self.port), self.timeout, self.source_address, self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connecting to {self.host} timed out") from exc
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


class _GuardedHTTPConnection(_GuardedConnection, WatchedHTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnection, WatchedHTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedHTTPAdapter(WatchedHTTPAdapter):
    """requests' adapter whose connections go only to public addresses, watched for the deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class _DownloadSession(requests.Session):
    """A session that follows no redirect: even with ``allow_redirects=False``, requests reads a
    redirect's whole body (to prepare the next hop), and a hostile body need not end. The caller
    follows redirects itself, closing each hop's answer unread."""

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(())


def download_session(allow_private_network: bool) -> requests.Session:
    """A session for downloads: no token, no proxy or netrc from the environment, connections
    watched for the action's deadline (see :func:`.watchdog.deadline_for_this_thread`) and
    (unless ``allow_private_network``) made only to public addresses. Redirects are the caller's."""
    session = _DownloadSession()
    session.trust_env = False
    adapter = WatchedHTTPAdapter(max_retries=0) if allow_private_network else GuardedHTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept-Encoding"] = "identity"  # the bytes as stored: their length is the upload's
    return session
