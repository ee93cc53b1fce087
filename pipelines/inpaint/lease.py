"""A lease on a batch job's output folder, so that one job at a time writes there.

The lease is one small JSON object, `<output>/.s3inpaint-lease.json`, naming its owner (host,
process id, run id) and when it expires. It is created exclusively (a local file with
`O_CREAT | O_EXCL`, a gs:// object with `if_generation_match=0`), so of two jobs that start
together exactly one gets it and the other is refused, told who holds it and until when. The
holder renews it from a background thread while the job runs and deletes it at the end, also
when the job fails.

A lease may be taken over when it has expired (its job was killed, or its machine lost) or when
its owner ran on this host and that process is gone. The take-over is a compare-and-swap: on
gs:// a write conditional on the stale object's generation; locally the stale file is first
renamed aside (only one contender's rename succeeds) and checked to be the one judged stale.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from google.api_core.exceptions import NotFound, PreconditionFailed

from components.olci.storage import (
    delete_object,
    download_bytes,
    gcs_object,
    is_gcs,
    upload_bytes,
)

log = logging.getLogger(__name__)

LEASE_FILE = ".s3inpaint-lease.json"
TTL_SECONDS = 600.0  # a job renews its lease every TTL / 5, so only a dead job lets it expire


class LeaseHeldError(ValueError):
    """Another job holds the lease on the output folder."""


@dataclass(frozen=True)
class Owner:
    """Who holds a lease."""

    host: str
    pid: int
    run_id: str

    def gone(self) -> bool:
        """True when this owner ran on this host and its process no longer exists."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, under another user
            return False
        return False


@dataclass(frozen=True)
class Held:
    """A lease as found in storage: its owner (None when unreadable), expiry and identity."""

    owner: Owner | None
    expires: float
    token: Any  # what a compare-and-swap checks: the content locally, the generation on gs://

    def stale(self, now: float) -> bool:
        return self.expires < now or (self.owner is not None and self.owner.gone())

    def describe(self) -> str:
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires))
        if self.owner is None:
            return f"an unreadable lease (expires {until})"
        o = self.owner
        return f"run {o.run_id} (host {o.host}, pid {o.pid}) until {until}"


def new_run_id() -> str:
    """A sortable, unique run id: UTC start time and random hex, e.g. 20261130T170153Z-3fa9c1."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def _payload(owner: Owner, expires: float) -> bytes:
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    return json.dumps({"owner": asdict(owner), "expires": expires, "expires_utc": until}).encode()


def _parse(data: bytes, modified: float, ttl: float, token: Any) -> Held:
    """A lease's content; unreadable content (a writer between create and write, or damage)
    is taken to expire `ttl` after it was last modified."""
    try:
        record = json.loads(data)
        return Held(Owner(**record["owner"]), float(record["expires"]), token)
    except (ValueError, KeyError, TypeError):
        return Held(None, modified + ttl, token)


class _LocalStore:
    def __init__(self, folder: str) -> None:
        self.path = self.url = os.path.join(folder, LEASE_FILE)

    def create(self, data: bytes) -> bytes | None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return None
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return data

    def read(self, ttl: float) -> Held | None:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
            modified = os.stat(self.path).st_mtime
        except FileNotFoundError:
            return None
        return _parse(data, modified, ttl, data)

    def take_over(self, held: Held, data: bytes) -> bytes | None:
        aside = f"{self.path}.stale-{secrets.token_hex(4)}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:  # another contender moved it first
            return None
        with open(aside, "rb") as f:
            moved = f.read()
        if moved != held.token:  # a fresh lease replaced the stale one meanwhile: put it back
            try:
                os.link(aside, self.path)
            finally:
                os.unlink(aside)
            return None
        os.unlink(aside)
        return self.create(data)

    def renew(self, held_token: Any, data: bytes) -> bytes | None:
        current = self.read(0.0)
        if current is None or current.token != held_token:
            return None
        tmp = f"{self.path}.renew-{secrets.token_hex(4)}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path)
        return data

    def delete(self, token: Any) -> None:
        current = self.read(0.0)
        if current is not None and current.token == token:
            os.unlink(self.path)


class _GcsStore:
    def __init__(self, folder: str, client: Any) -> None:
        self.url = f"{folder.rstrip('/')}/{LEASE_FILE}"
        self.client = client

    def _generation(self) -> int:
        found = gcs_object(self.url, client=self.client)
        return found.generation if found is not None else 0

    # Each write or delete first looks at the object's generation (a quick answer), then makes
    # it the request's precondition, which GCS applies atomically. (gcp-storage-emulator, which
    # the tests run against, ignores preconditions: there only the look guards.)
    def _upload(self, data: bytes, generation: int) -> int | None:
        if self._generation() != generation:
            return None
        try:
            return upload_bytes(data, self.url, generation=generation,
                                content_type="application/json", client=self.client)  # fmt: skip
        except PreconditionFailed:
            return None

    def create(self, data: bytes) -> int | None:
        return self._upload(data, 0)

    def read(self, ttl: float) -> Held | None:
        found = gcs_object(self.url, client=self.client)
        if found is None:
            return None
        modified = found.updated if found.updated is not None else time.time()
        try:
            data = download_bytes(self.url, generation=found.generation, client=self.client)
        except (NotFound, PreconditionFailed):  # released or replaced meanwhile: look again
            return None
        return _parse(data, modified, ttl, found.generation)

    def take_over(self, held: Held, data: bytes) -> int | None:
        return self._upload(data, held.token)

    def renew(self, held_token: Any, data: bytes) -> int | None:
        return self._upload(data, held_token)

    def delete(self, token: Any) -> None:
        if self._generation() != token:  # it expired and was taken over: not ours to delete
            return
        with contextlib.suppress(NotFound, PreconditionFailed):  # ... at this very moment
            delete_object(self.url, generation=token, client=self.client)


class Lease:
    """Hold the lease on `output` for a `with` block (see the module's docstring).

    Raises:
        LeaseHeldError: on entry, when another job holds an unexpired lease; the message names
            the output, the owner and the expiry.
    """

    def __init__(
        self, output: str, run_id: str, *, ttl: float = TTL_SECONDS, gcs_client: Any = None
    ) -> None:
        self.output = output
        self.owner = Owner(socket.gethostname(), os.getpid(), run_id)
        self._ttl = ttl
        self._store = _GcsStore(output, gcs_client) if is_gcs(output) else _LocalStore(output)
        self._token: Any = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _data(self) -> bytes:
        return _payload(self.owner, time.time() + self._ttl)

    def acquire(self) -> None:
        for _ in range(3):  # a lease released or taken over between two looks: look again
            data = self._data()
            token = self._store.create(data)
            if token is not None:
                self._token = token
                return
            held = self._store.read(self._ttl)
            if held is None:
                continue
            if not held.stale(time.time()):
                raise LeaseHeldError(
                    f"--output {self.output} is in use by another s3inpaint job: "
                    f"{held.describe()} ({self._store.url}); wait for it to end or choose "
                    "another --output; a lease left by a killed job expires at that time"
                )
            token = self._store.take_over(held, data)
            if token is not None:
                self._token = token
                log.warning("%s: took over the stale lease of %s", self.output, held.describe())
                return
        raise LeaseHeldError(f"--output {self.output}: other jobs keep taking its lease "
                             f"({self._store.url}); try again")  # fmt: skip

    def renew(self) -> bool:
        """Push the expiry forward; False when the lease is no longer ours."""
        data = self._data()
        token = self._store.renew(self._token, data)
        if token is None:
            log.error("%s: lost the lease on the output to another job", self.output)
            return False
        self._token = token
        return True

    def release(self) -> None:
        self._store.delete(self._token)

    def _keep_renewed(self) -> None:
        while not self._stop.wait(self._ttl / 5):
            try:
                if not self.renew():
                    return
            except Exception:  # a passing storage error; the next renewal tries again
                log.exception("%s: could not renew the lease", self.output)

    def __enter__(self) -> Lease:
        self.acquire()
        self._renewer = threading.Thread(target=self._keep_renewed, daemon=True,
                                         name="s3inpaint-lease")  # fmt: skip
        self._renewer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        self.release()
