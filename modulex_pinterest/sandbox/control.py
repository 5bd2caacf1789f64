"""``Sandbox``: the object a test, the command line or the benchmark holds.

It owns the sandbox's state (demo data, OAuth apps and tokens, the rate budget),
the queue of injected faults and the request log, and starts and stops the HTTP
server of ``server.py`` that answers from them. Everything here is the Python
API; nothing a client sends reaches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from . import auth
from .api import Api
from .faults import Fault, FaultBody, FaultQueue
from .media import UPLOAD_PATH, MediaStore
from .ratelimit import RateLimiter
from .server import Exchange, RequestLog, SandboxServer
from .store import Store

DEMO_TOKEN = "pina_sandbox_demo_token"
DEMO_APP_ID = "1500000"
DEMO_APP_SECRET = "sandbox_app_secret"


def demo_app() -> dict[str, str]:
    """The OAuth app every sandbox registers, for a command line to print before serving."""
    return {"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}


class Sandbox:
    """A Pinterest API v5 stand-in on loopback, with demo data, OAuth and fault injection.

    ``seed`` fixes the demo data; ``access_token_ttl``/``refresh_token_ttl``
    (seconds, 0 or less: expired on issue) apply to tokens issued by the token
    endpoint; ``faults`` is a list of ``inject_fault`` keyword dicts (with
    ``kind``), queued before serving.

    ``rate_limit`` (requests per second, None: unlimited) budgets every
    bearer-authenticated endpoint per app (the token's app; the demo token and
    ``add_access_token`` tokens belong to the demo app unless told otherwise;
    the analytics endpoints have a second budget of the same size, ``org_analytics``):
    a token bucket holding ``max(1, rate_limit)`` requests, full at start,
    refilled continuously. Auth is checked first, so a 401 spends nothing; the
    token endpoint, the consent page and injected faults are never charged.
    Over budget: 429 ``{"code": 8, ...}`` with ``Retry-After`` and
    ``X-RateLimit-Limit/Remaining/Reset``; within it, answers carry
    ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``.

    Refresh-token reuse (RFC 9700): presenting a refresh token that
    ``continuous_refresh`` already rotated away revokes its whole grant (the
    tokens of one code exchange and of every refresh since). ``grant_revoked(token)``
    tells whether a token's grant was revoked; ``revoked_grants`` counts them.

    Compression, as Pinterest's edge: a JSON answer of at least 1 KiB (every
    list page, no error) is sent gzip-compressed when the request's
    ``Accept-Encoding`` accepts gzip (``Content-Encoding: gzip``); ``exchanges``
    hold its decoded body with the headers as sent. Faults are never compressed.

    Media uploads (``POST /v5/media``, ``GET /v5/media``, ``GET /v5/media/{id}``):
    the ``upload_url`` is ``upload_url`` here (``/media-uploads`` on this server,
    standing in for S3) and takes an S3 presigned POST (see ``upload.py``);
    ``media_processing_seconds`` is how long an uploaded media stays
    ``processing`` before ``succeeded`` (or ``failed``: bytes not MP4/MOV, or a
    ``processing_failed`` fault). ``media(media_id)`` tells what was received;
    ``finish_media_processing`` ends a processing at once. Video pins need the
    caller's app's ``succeeded`` media.

    ``app_id``/``app_secret``/``access_token`` are class attributes (also
    ``demo_app()``), readable before any sandbox exists; ``app_secret=``
    gives one sandbox's app a secret of its own.
    """

    access_token = DEMO_TOKEN
    app_id = DEMO_APP_ID
    app_secret = DEMO_APP_SECRET

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        access_token_ttl: int = 2592000,
        refresh_token_ttl: int = 5184000,
        faults: list[dict] | None = None,
        rate_limit: float | None = None,
        app_secret: str | None = None,
        media_processing_seconds: float = 0.2,
    ) -> None:
        self.host, self.port, self.seed = host, port, seed
        self.rate_limit = rate_limit
        limiter = None if rate_limit is None else RateLimiter(rate_limit)
        self.store = Store(seed)
        self.store.load_demo()
        self.auth = auth.Auth(access_token_ttl, refresh_token_ttl)
        if app_secret is not None:  # a sandbox others can reach: its app's secret is not the public demo one
            self.app_secret = app_secret
        self.auth.register_app(DEMO_APP_ID, self.app_secret)
        self.auth.add_access_token(DEMO_TOKEN, auth.DEFAULT_SCOPES, expires_in=None, app_id=DEMO_APP_ID)
        self.media_store = MediaStore(media_processing_seconds)
        self._api = Api(self.store, self.auth, limiter, self.media_store)
        self._faults = FaultQueue()
        for spec in faults or []:
            self._faults.add(Fault(**spec))
        self._request_log = RequestLog()
        self._stopping = threading.Event()
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle ------------------------------------------------------

    def _bind(self) -> SandboxServer:
        if self._server is None:
            self._server = SandboxServer(
                (self.host, self.port), self._api, self._faults, self._request_log, self._stopping
            )
            self.port = self._server.server_address[1]
            self._api.upload_host = f"{self.host}:{self.port}"
        return self._server

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._bind().serve, name="pinterest-sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, at once: end the accept loop, wake hanging requests and close
        every open connection (their handler threads then end)."""
        self._stopping.set()
        server = self._server
        if server is None:
            return
        if self._thread is not None and self._thread.is_alive():
            server.wake()
            self._thread.join(timeout=5)
        server.close_connections()
        server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v5"

    @property
    def upload_url(self) -> str:
        """Where media bytes are POSTed (what ``POST /v5/media`` answers as ``upload_url``)."""
        return self.root_url + UPLOAD_PATH

    # ----- request log ----------------------------------------------------

    @property
    def exchanges(self) -> list[Exchange]:
        """Answered requests so far, in arrival order (a copy)."""
        return self._request_log.exchanges()

    def clear_exchanges(self) -> None:
        self._request_log.clear()

    # ----- faults ---------------------------------------------------------

    def inject_fault(
        self,
        kind: str,
        count: int = 1,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        body: FaultBody = None,
        delay: float = 0.0,
        method: str | None = None,
        path_prefix: str | None = None,
        after_bytes: int | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with a fault instead of normally.

        Kinds: ``status`` (send ``status`` with ``headers``/``body``: default body
        is Pinterest's error JSON, a str/bytes body goes out raw as text/html
        unless ``headers`` set Content-Type, a dict/list as JSON; a 429 without
        ``headers`` gets Retry-After and X-RateLimit-* headers, ``headers={}``
        sends none), ``delay`` (wait ``delay`` s, then answer normally),
        ``drop`` (close without answering), ``reset`` (status and headers, part
        of the body, close), ``truncated_json`` (200 with half a JSON document),
        ``non_json`` (200 with an HTML page), ``hang`` (no answer until stop()
        or ``delay`` s, at most 60, then close). Only ``delay`` changes state.

        Upload kinds, matching only uploads to ``upload_url``: ``upload_error``
        (read ``after_bytes`` of the body, default half, answer 500 S3
        ``InternalError`` and close), ``upload_drop`` (read ``after_bytes``, close
        without answering): both leave the media as it was; ``processing_failed``
        (the upload succeeds, processing ends ``failed``), ``processing_slow``
        (the upload succeeds, processing lasts ``delay`` s). The other kinds hit
        uploads too, answered before the body is read.
        """
        self._faults.add(Fault(kind, count, status, headers, body, delay, method, path_prefix, after_bytes))

    # ----- state helpers --------------------------------------------------

    def add_access_token(
        self,
        token: str,
        scopes: Iterable[str] = auth.DEFAULT_SCOPES,
        expires_in: float | None = None,
        app_id: str = DEMO_APP_ID,
    ) -> None:
        """A bearer token outside any grant (never revoked); ``app_id`` picks its rate-limit bucket."""
        self.auth.add_access_token(token, scopes, expires_in, app_id)

    def expire_access_token(self, token: str) -> None:
        self.auth.expire_access_token(token)

    def grant_revoked(self, token: str) -> bool:
        """Whether the grant of ``token`` (access or refresh, current or rotated away)
        was revoked by refresh-token reuse; False for tokens the sandbox never issued."""
        return self.auth.grant_revoked(token)

    @property
    def revoked_grants(self) -> int:
        """How many grants refresh-token reuse has revoked so far."""
        return self.auth.revoked_grants

    def register_app(self, app_id: str, app_secret: str) -> None:
        self.auth.register_app(app_id, app_secret)

    def issue_authorization_code(self, app_id: str, redirect_uri: str, scopes: str | Iterable[str]) -> str:
        return self.auth.issue_authorization_code(app_id, redirect_uri, scopes)

    def add_large_board(self, pin_count: int = 10000, name: str = "Large board") -> str:
        """A board whose pins are generated from their index when listed: cheap at any size."""
        return self.store.add_board(name, description=f"Generated board with {pin_count} pins.", lazy_count=pin_count)

    def date_new_pins(self, epoch: float | None) -> None:
        """Date every pin created from now on at ``epoch`` (Unix seconds; ``None``: the real clock
        again): many pins sharing one ``created_at``, as when they are made within one second."""
        self.store.clock = time.time if epoch is None else (lambda: epoch)

    @property
    def boards(self) -> list[dict]:
        """Every board as GET /boards would serve it, in listing order."""
        return self.store.boards()

    def sections(self, board_id: str) -> list[dict]:
        return self.store.sections(board_id)

    def get_pin(self, pin_id: str) -> dict | None:
        return self.store.get_pin(pin_id)

    def pin_count(self, board_id: str, section_id: str | None = None) -> int:
        return self.store.pin_count(board_id, section_id)

    def media(self, media_id: str) -> dict | None:
        """A media upload as the sandbox sees it (None if unknown): ``media_id``,
        ``media_type``, ``status``, ``app_id``, ``size`` and ``detected_type`` of
        the last whole upload, ``uploads`` (how many), ``fail_reason`` and the
        form's ``field_names`` in order."""
        return self.media_store.info(media_id)

    def finish_media_processing(self, media_id: str) -> None:
        """End an uploaded media's processing now: its final status shows at once."""
        self.media_store.finish_processing(media_id)
