"""The peer: Pinterest's official Python SDK (``pinterest-api-sdk``) as a benchmark worker.

``run.py`` starts this file with a Python that has the SDK installed (the same
environment when the ``bench`` extra is installed there, or a separate virtual
environment named by ``--sdk-python``, since the SDK pins ``urllib3==1.26.20``
through ``Pinterest-Generated-Client``) and drives it over stdin/stdout, one
JSON object per line, so its batches interleave with the plugin's and the
floor's in the same run.

The SDK is pointed at the benchmark server through its own configuration
(``PinterestSDKClient._get_config(token, api_uri=base_url)``, the documented
``PINTEREST_API_URI`` setting passed explicitly). Listing goes through the
SDK's high-level model, ``Board(...).list_pins(page_size=..)`` and
``Bookmark.get_next()``, which is what an SDK user writes. The Board is built
with ``_model_data`` so that it does not fetch ``GET /boards/{id}`` first (one
extra round trip per call would be unfair to the SDK).

The SDK reads ``config.json`` from anywhere under the *parent* of the current
directory at import time (``os.walk``), so run.py starts this worker in an
empty temporary directory.

Commands: {"op": "setup", "base_url", "access_token", "board_id"},
{"op": "list_pins", "n", "page_size"} -> seconds per call,
{"op": "board", "page_size"} -> seconds per traversal and the pin count,
{"op": "quit"}.
"""

import json
import sys
import time


def main():
    out = sys.stdout
    state = {}

    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    try:
        from importlib.metadata import version

        from pinterest.client import PinterestSDKClient
        from pinterest.organic.boards import Board
    except Exception as exc:  # reported as the reason the peer rows are skipped
        reply({"ok": False, "error": f"cannot import the SDK: {type(exc).__name__}: {exc}"})
        return
    reply(
        {
            "ok": True,
            "sdk_version": version("pinterest-api-sdk"),
            "urllib3": version("urllib3"),
            "python": sys.version.split()[0],
        }
    )

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        try:
            if op == "setup":
                config = PinterestSDKClient._get_config(cmd["access_token"], api_uri=cmd["base_url"])
                client = PinterestSDKClient(configuration=config)
                board_id = cmd["board_id"]
                state["board"] = Board(board_id=board_id, client=client, _model_data={"id": board_id})
                reply({"ok": True})
            elif op == "list_pins":
                board, n, size = state["board"], cmd["n"], cmd["page_size"]
                start = time.perf_counter()
                for _ in range(n):
                    pins, _bookmark = board.list_pins(page_size=size)
                elapsed = time.perf_counter() - start
                reply(
                    {"ok": True, "seconds": elapsed / n, "count": len(pins), "title": pins[0].title if pins else None}
                )
            elif op == "board":
                board, size = state["board"], cmd["page_size"]
                start = time.perf_counter()
                pins, bookmark = board.list_pins(page_size=size)
                count, pages = len(pins), 1
                while bookmark is not None:
                    pins, bookmark = bookmark.get_next()
                    count += len(pins)
                    pages += 1
                elapsed = time.perf_counter() - start
                reply({"ok": True, "seconds": elapsed, "count": count, "pages": pages})
            elif op == "quit":
                reply({"ok": True})
                return
            else:
                reply({"ok": False, "error": f"unknown op {op!r}"})
        except Exception as exc:
            reply({"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})


if __name__ == "__main__":
    main()
