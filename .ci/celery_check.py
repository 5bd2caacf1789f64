"""The strict token server and the figures `.ci/celery` checks, in one small program.

``sandbox``: serve the embedded sandbox (``modulex_pinterest.sandbox.Sandbox``)
with a rate limit and a token lifetime, as ``modulex-pinterest sandbox
--rate-limit N --token-lifetime S`` does (rotated refresh tokens, reuse revokes
the whole grant), and besides what that command offers:

- an OAuth grant minted in-process (a code issued and exchanged without a
  request, so the token endpoint's log starts empty), its access token expired
  at the server, written as a credentials JSON file whose ``expires_at`` is in
  the past: what ``auth import`` puts into the store;
- a read-only figures endpoint on a second loopback port (``GET /figures``):
  token requests and their statuses, requests, 429s, revoked grants.

It writes one JSON line to ``--ready`` once both listen (``base_url``,
``figures_url``, ``board_id`` and ``board_pins`` of the 600-pin board), then
serves until SIGTERM.

``expect``: fetch the figures and fail (exit 1, one line per broken rule) unless
they hold: ``--token-requests N`` exactly, no revoked grant, every token
request answered 200.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN_PATH = "/v5/oauth/token"
REDIRECT_URI = "http://127.0.0.1:8085/"
BIG_BOARD = "Recipe archive"  # the sandbox's demo board with 600 pins


def figures(sandbox: Any) -> dict[str, Any]:
    exchanges = sandbox.exchanges
    tokens = [e for e in exchanges if e.method == "POST" and e.path == TOKEN_PATH]
    return {
        "requests": len(exchanges),
        "token_requests": len(tokens),
        "token_statuses": [e.status for e in tokens],
        "rate_limited": sum(1 for e in exchanges if e.status == 429),
        "unauthorized": sum(1 for e in exchanges if e.status == 401),
        "revoked_grants": sandbox.revoked_grants,
    }


def mint_expired_grant(sandbox: Any, scopes: str) -> dict[str, Any]:
    """A fresh grant of the sandbox's app, as `auth login` would store it, but already expired."""
    code = sandbox.issue_authorization_code(sandbox.app_id, REDIRECT_URI, scopes)
    basic = base64.b64encode(f"{sandbox.app_id}:{sandbox.app_secret}".encode()).decode()
    answer = sandbox.auth.token(
        f"Basic {basic}", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    )
    sandbox.expire_access_token(answer["access_token"])
    return {
        "mode": "oauth2",
        "app_id": sandbox.app_id,
        "app_secret": sandbox.app_secret,
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "expires_at": int(time.time()) - 60,
    }


def serve_figures(sandbox: Any) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path != "/figures":
                self.send_error(404)
                return
            body = json.dumps(figures(sandbox)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


def cmd_sandbox(args: argparse.Namespace) -> int:
    from modulex_pinterest.sandbox import Sandbox
    from modulex_pinterest.sandbox.auth import DEFAULT_SCOPES

    sandbox = Sandbox(access_token_ttl=args.token_lifetime, rate_limit=args.rate_limit).start()
    board_id = next(board["id"] for board in sandbox.boards if board["name"] == BIG_BOARD)
    credentials = Path(args.credentials_out)
    credentials.touch(mode=0o600)
    credentials.write_text(json.dumps(mint_expired_grant(sandbox, ",".join(DEFAULT_SCOPES))) + "\n")
    server = serve_figures(sandbox)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    info = {
        "base_url": sandbox.base_url,
        "figures_url": f"http://127.0.0.1:{server.server_address[1]}/figures",
        "board_id": board_id,
        "board_pins": sandbox.pin_count(board_id),
        "pid": os.getpid(),
    }
    ready = Path(args.ready)
    ready.with_suffix(".tmp").write_text(json.dumps(info) + "\n")
    ready.with_suffix(".tmp").replace(ready)  # the script sees the whole line or nothing
    try:
        while not stopping.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    server.shutdown()
    sandbox.stop()
    return 0


def cmd_expect(args: argparse.Namespace) -> int:
    with urllib.request.urlopen(args.figures_url, timeout=10) as answer:
        seen = json.load(answer)
    print(f"celery CI: sandbox figures {json.dumps(seen)}", file=sys.stderr)
    broken = []
    if seen["token_requests"] != args.token_requests:
        broken.append(f"{seen['token_requests']} token requests at the sandbox, expected exactly {args.token_requests}")
    if any(status != 200 for status in seen["token_statuses"]):
        broken.append(f"token requests answered {seen['token_statuses']}, expected 200 only")
    if seen["revoked_grants"]:
        broken.append(f"the sandbox revoked {seen['revoked_grants']} grant(s) (a rotated refresh token was presented)")
    for line in broken:
        print(f"celery CI: FAILED: {line}", file=sys.stderr)
    return 1 if broken else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("sandbox")
    serve.add_argument("--rate-limit", type=float, required=True)
    serve.add_argument("--token-lifetime", type=int, default=3600)
    serve.add_argument("--credentials-out", required=True)
    serve.add_argument("--ready", required=True)
    expect = commands.add_parser("expect")
    expect.add_argument("figures_url")
    expect.add_argument("--token-requests", type=int, required=True)
    args = parser.parse_args()
    return cmd_sandbox(args) if args.command == "sandbox" else cmd_expect(args)


if __name__ == "__main__":
    sys.exit(main())
