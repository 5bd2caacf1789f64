"""One reference host and one credential store per process, for the engine faces whose worker
processes run many actions (an Airflow worker, a Langflow server).

A Redis store is opened once per spec, so it keeps one connection pool and one lease renewer;
the host for calls with it takes its rate budget from the same Redis (shared by every worker on
every machine, as the CLI's is); every other call goes to one host on this machine's budget
(:class:`~.machine_budget.MachineRateBudget`, shared by every process on the machine)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from . import Host
from .stores import open_store

if TYPE_CHECKING:
    from ..contract import CredentialStore
    from .redis_store import RedisStore
    from .stores import CredentialsFile

_lock = threading.Lock()
_hosts: dict[int, Host] = {}  # id of a Redis store (kept in _stores for good), or 0
_stores: dict[str, CredentialsFile | RedisStore] = {}  # spec -> its store


def shared_store(spec: str) -> CredentialsFile | RedisStore:
    """The process's store for ``spec`` (a file path or a Redis URL: :func:`~.stores.open_store`)."""
    with _lock:
        if spec not in _stores:
            _stores[spec] = open_store(spec)
        return _stores[spec]


def shared_host(store: CredentialStore | None = None) -> Host:
    """The process's reference host for calls with ``store``, created on first use."""
    budget_of = getattr(store, "rate_budget", None)
    key = id(store) if budget_of is not None else 0
    with _lock:
        if key not in _hosts:
            _hosts[key] = Host(budget=budget_of() if budget_of is not None else None)
        return _hosts[key]
