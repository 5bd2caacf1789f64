"""One plugin instance, many engine threads: 16 threads x 48 mixed actions
against the sandbox, each output belonging to its own request."""

import random
import threading

import pytest

THREADS = 16
CALLS = 48


def belongs_to_its_request(kind, inputs, out):
    """The output answers this request: its board, its section, its title."""
    board = inputs.get("board_id")
    section = inputs.get("board_section_id")
    if kind == "list_boards":
        return out["count"] == len(out["boards"]) > 0
    if kind == "get_board_sections":
        return out["board_id"] == board
    if kind == "create_pin":
        return out["title"] == inputs["title"] and out["board_id"] == board and out["board_section_id"] == section
    return (
        out["board_id"] == board
        and all(p["board_id"] == board for p in out["pins"])
        and (section is None or all(p.get("board_section_id") == section for p in out["pins"]))
    )


@pytest.mark.no_contract  # 768 exchanges: a sample is contract-checked below, to keep the suite fast
def test_sixteen_threads_times_forty_eight_mixed_actions(host, sandbox, contract):
    boards = [b for b in sandbox.boards if b["pin_count"] < 100]
    sections = {b["id"]: [s["id"] for s in sandbox.sections(b["id"])] for b in boards}
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    # Thread safety, not pacing: the default budget (100 requests/s per grant) would spread these 768 over ~6 s.
    settings = {"base_url": sandbox.base_url, "rate_limit": 1e6}
    failures = []

    def worker(n):
        rng = random.Random(n)
        for i in range(CALLS):
            board = rng.choice(boards)["id"]
            section = rng.choice(sections[board]) if sections[board] else None
            kind = ("list_boards", "get_board_sections", "create_pin", "list_pins")[i % 4]
            inputs = {
                "list_boards": {"page_size": 5},
                "get_board_sections": {"board_id": board},
                "create_pin": {"board_id": board, "title": f"t{n}-{i}", "media_url": f"https://e.com/{n}/{i}.jpg"},
                "list_pins": {"board_id": board, "page_size": 5},
            }[kind]
            if kind in ("create_pin", "list_pins") and section and rng.random() < 0.5:
                inputs["board_section_id"] = section
            out = host.run("pinterest", kind, inputs, credentials, settings)
            ok = out["success"] and belongs_to_its_request(kind, inputs, out)
            if not ok:
                failures.append((n, i, kind, inputs, out))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    created = [e for e in sandbox.exchanges if e.method == "POST"]
    assert len(created) == THREADS * CALLS // 4
    assert all(e.status == 201 for e in created)
    if contract is not None:
        for exchange in sandbox.exchanges[::20]:
            contract.check_exchange(exchange)
