"""Credentials sealed at rest, and Redis with a password or TLS.

With ``MODULEX_PINTEREST_KEY`` set, the reference stores write credentials
sealed (Fernet); tests search the raw bytes of the file and of the Redis
value, and Redis's ``MONITOR`` stream during a refresh, for every secret.
Everything runs through the installed command against the sandbox, with real
``redis-server`` processes (one with ``requirepass``, one serving TLS only).
"""

import datetime
import json
import os
import subprocess
import threading
import uuid
from urllib.parse import quote

import pytest
import redis
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import _free_port
from test_cli import CLI
from test_oauth import TOKEN_PATH, authorize, token_requests

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def command(*args, key=None, key_file=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    if key is not None:
        env["MODULEX_PINTEREST_KEY"] = key
    if key_file is not None:
        env["MODULEX_PINTEREST_KEY_FILE"] = str(key_file)
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, env=env)


def secrets_in(*credentials):
    return [c[name] for c in credentials for name in ("app_secret", "access_token", "refresh_token") if c.get(name)]


class Where:
    """A file store or a Redis key, and its raw bytes."""

    def __init__(self, kind, tmp_path, redis_url):
        self.kind = kind
        if kind == "file":
            self.path = tmp_path / "pinterest.json"
            self.argument = str(self.path)
        else:
            self.key = f"test:sealed:{uuid.uuid4().hex}"
            self.client = redis.Redis.from_url(redis_url)
            self.argument = f"{redis_url}?key={self.key}"

    def raw(self):
        return self.path.read_bytes() if self.kind == "file" else self.client.get(self.key)


def import_grant(where, tmp_path, credentials, key):
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(credentials))
    done = command("auth", "import", str(exported), "--credentials", where.argument, key=key)
    assert done.returncode == 0, done.stderr
    exported.unlink()


def run_boards(where, sandbox, key):
    return command("run", "list_boards", "--credentials", where.argument, "--base-url", sandbox.base_url, key=key)


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_sealed_credentials_hold_no_secret_in_clear_and_every_action_and_refresh_works(
    sandbox, tmp_path, redis_url, kind
):
    where = Where(kind, tmp_path, redis_url)
    granted = dict(authorize(sandbox), expires_at=1)  # expired: the first run refreshes
    import_grant(where, tmp_path, granted, OLD_KEY)
    sealed = where.raw()
    assert b"modulex_sealed" in sealed and all(secret.encode() not in sealed for secret in secrets_in(granted))
    if kind == "file":
        assert where.path.stat().st_mode & 0o777 == 0o600

    sandbox.clear_exchanges()
    watched = []
    monitor = threading.Thread(target=watch_commands, args=(where, watched)) if kind == "redis" else None
    if monitor is not None:
        monitor.start()
    ran = run_boards(where, sandbox, OLD_KEY)
    if monitor is not None:
        where.client.set(f"{where.key}:monitor-stop", "1")  # wakes the monitor, which then stops
        monitor.join(30)
    assert ran.returncode == 0 and json.loads(ran.stdout)["success"], ran.stderr
    (refresh,) = token_requests(sandbox)
    newest = json.loads(refresh.response_body)
    everything = secrets_in(granted, newest)
    sealed_after = where.raw()
    assert sealed_after != sealed and b"modulex_sealed" in sealed_after
    assert all(secret.encode() not in sealed_after for secret in everything)
    if monitor is not None:  # what the server saw: the swap sends a fingerprint and sealed data only
        seen = " ".join(watched)
        assert "EVALSHA" in seen.upper() or "EVAL" in seen.upper()
        assert all(secret not in seen for secret in everything), seen
    # The next run uses the stored, refreshed tokens: no second refresh.
    again = run_boards(where, sandbox, OLD_KEY)
    assert again.returncode == 0 and len(token_requests(sandbox)) == 1 and sandbox.revoked_grants == 0

    without = run_boards(where, sandbox, None)
    assert without.returncode == 2 and "are encrypted: set MODULEX_PINTEREST_KEY" in without.stderr
    wrong = run_boards(where, sandbox, NEW_KEY)
    assert wrong.returncode == 2 and "none of the keys in MODULEX_PINTEREST_KEY" in wrong.stderr
    for output in (ran, again, without, wrong):
        assert all(secret not in output.stdout + output.stderr for secret in everything)


def watch_commands(where, seen):
    """Every command Redis runs, as MONITOR shows them, until the stop key is set; but not those on
    other tests' keys (``test:...``): the suite's other processes share this Redis, some with plain stores."""
    with where.client.monitor() as stream:
        for entry in stream.listen():
            command = str(entry.get("command", ""))
            if where.key in command or "test:" not in command:
                seen.append(command)
            if f"{where.key}:monitor-stop" in command:
                return


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_a_key_is_rotated_by_resealing_with_the_new_key_first(sandbox, tmp_path, redis_url, kind):
    where = Where(kind, tmp_path, redis_url)
    import_grant(where, tmp_path, authorize(sandbox), OLD_KEY)
    before = where.raw()
    rotated = command("auth", "encrypt", "--credentials", where.argument, key=f"{NEW_KEY},{OLD_KEY}")
    assert rotated.returncode == 0, rotated.stderr
    assert where.raw() != before
    assert run_boards(where, sandbox, NEW_KEY).returncode == 0  # the old key can go now
    stale = run_boards(where, sandbox, OLD_KEY)
    assert stale.returncode == 2 and "none of the keys" in stale.stderr


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_a_plain_store_is_upgraded_in_place_or_on_its_next_write(sandbox, tmp_path, redis_url, kind):
    where = Where(kind, tmp_path, redis_url)
    granted = dict(authorize(sandbox), expires_at=1)
    import_grant(where, tmp_path, granted, None)
    assert granted["refresh_token"].encode() in where.raw()  # plain, as before keys existed
    assert run_boards(where, sandbox, OLD_KEY).returncode == 0  # a key set: the refresh's write seals it
    assert b"modulex_sealed" in where.raw()

    plain = Where(kind, tmp_path / "plain" if kind == "file" else tmp_path, redis_url)
    if kind == "file":
        (tmp_path / "plain").mkdir()
        plain = Where(kind, tmp_path / "plain", redis_url)
    import_grant(plain, tmp_path, authorize(sandbox), None)
    assert command("auth", "encrypt", "--credentials", plain.argument, key=None).returncode == 2  # no key
    upgraded = command("auth", "encrypt", "--credentials", plain.argument, key=OLD_KEY)
    assert upgraded.returncode == 0, upgraded.stderr
    assert b"modulex_sealed" in plain.raw() and run_boards(plain, sandbox, OLD_KEY).returncode == 0


def test_a_key_file_others_can_read_is_refused(sandbox, tmp_path):
    key_file = tmp_path / "pinterest.key"
    key_file.write_text(OLD_KEY + "\n")
    key_file.chmod(0o644)
    store = tmp_path / "pinterest.json"
    store.write_text(json.dumps(authorize(sandbox)))
    loose = command("auth", "encrypt", "--credentials", str(store), key_file=key_file)
    assert loose.returncode == 2 and "others may read: chmod 600" in loose.stderr and OLD_KEY not in loose.stderr
    key_file.chmod(0o600)
    assert command("auth", "encrypt", "--credentials", str(store), key_file=key_file).returncode == 0
    ran = command("run", "list_boards", "--credentials", str(store), "--base-url", sandbox.base_url, key_file=key_file)
    assert ran.returncode == 0, ran.stderr


def test_new_key_prints_a_usable_key():
    made = command("auth", "new-key")
    assert made.returncode == 0 and Fernet(made.stdout.strip().encode())


# ----- Redis with a password, and over TLS ------------------------------------


class RedisServer:
    """A redis-server of this test's own, with extra arguments; stopped by its pid."""

    def __init__(self, directory, *args, tls=False):
        self.port = _free_port()
        port_args = ["--port", "0", "--tls-port", str(self.port)] if tls else ["--port", str(self.port)]
        self.process = subprocess.Popen(
            ["redis-server", *port_args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *args],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self):
        self.process.kill()
        self.process.wait()


def wait_for(server, client):
    for _ in range(500):
        try:
            if client.ping():
                return
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            if server.process.poll() is not None:
                pytest.fail("redis-server exited at start")
            threading.Event().wait(0.02)
    pytest.fail("redis-server did not answer")


def test_redis_with_a_password_works_and_the_password_is_never_shown(sandbox, tmp_path):
    password = "s3cret/Pa55@word"
    server = RedisServer(tmp_path, "--requirepass", password)
    try:
        wait_for(server, redis.Redis(host="127.0.0.1", port=server.port, password=password, socket_timeout=5))
        url = f"redis://:{quote(password, safe='')}@127.0.0.1:{server.port}/0?key=test:password"
        where = Where("redis", tmp_path, f"redis://:{quote(password, safe='')}@127.0.0.1:{server.port}/0")
        where.argument = url
        import_grant(where, tmp_path, dict(authorize(sandbox), expires_at=1), None)
        ran = run_boards(where, sandbox, None)
        assert ran.returncode == 0, ran.stderr
        wrong = f"redis://:wrong-{quote(password, safe='')}@127.0.0.1:{server.port}/0?key=test:password"
        refused = command("run", "list_boards", "--credentials", wrong, "--base-url", sandbox.base_url)
        assert refused.returncode != 0
        for output in (ran, refused):
            text = output.stdout + output.stderr
            assert password not in text and quote(password, safe="") not in text
    finally:
        server.stop()


def self_signed(directory):
    """A CA-less self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "redis.crt", directory / "redis.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_redis_over_tls_works_with_its_ca_and_is_refused_without(sandbox, tmp_path):
    cert, key = self_signed(tmp_path)
    tls = ("--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert))
    server = RedisServer(tmp_path, *tls, "--tls-auth-clients", "no", tls=True)
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port, ssl=True, ssl_ca_certs=str(cert), socket_timeout=5)
        wait_for(server, client)
        base = f"rediss://127.0.0.1:{server.port}/0"
        where = Where("redis", tmp_path, base)
        where.argument = f"{base}?key=test:tls&ssl_ca_certs={quote(str(cert))}"
        where.client = client
        where.key = "test:tls"
        import_grant(where, tmp_path, dict(authorize(sandbox), expires_at=1), OLD_KEY)
        ran = run_boards(where, sandbox, OLD_KEY)
        assert ran.returncode == 0, ran.stderr
        assert b"modulex_sealed" in where.raw()
        unchecked = command(
            "run", "list_boards", "--credentials", f"{base}?key=test:tls", "--base-url", sandbox.base_url
        )
        assert unchecked.returncode != 0 and "certificate" in unchecked.stdout + unchecked.stderr
    finally:
        server.stop()


def test_the_swap_compares_fingerprints_with_plain_values_written_before_sealing(redis_url):
    """A plain value (written by an older version, or with no key) is swapped by the
    SHA-1 of its refresh token, computed on the server: the token is never sent."""
    from modulex_pinterest.host.redis_store import RedisStore
    from modulex_pinterest.host.sealing import Sealer

    url = f"{redis_url}?key=test:sealed:{uuid.uuid4().hex}"
    plain = RedisStore(url, sealer=Sealer([]))
    plain.save({"mode": "oauth2", "app_id": "1", "app_secret": "s", "refresh_token": "pinr_a"})
    sealing = RedisStore(url, sealer=Sealer([OLD_KEY]))
    assert not sealing.swap("pinr_other", {"refresh_token": "pinr_b"})
    assert sealing.swap("pinr_a", {"mode": "oauth2", "refresh_token": "pinr_b"})
    assert sealing.read()["refresh_token"] == "pinr_b" and sealing.swap("pinr_b", {"refresh_token": "pinr_c"})
    assert TOKEN_PATH  # the sandbox's token path, imported for the tests above
