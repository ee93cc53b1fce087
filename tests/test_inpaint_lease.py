"""The lease on a batch job's output: locally and on gs:// (a real gcp-storage-emulator)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.olci.storage import split_gcs
from pipelines.inpaint.lease import LEASE_FILE, Lease, LeaseHeldError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["local", "gcs"])
def output(request, tmp_path) -> tuple[str, object]:
    """(an output folder, the gcs client for it or None)."""
    if request.param == "local":
        return str(tmp_path), None
    gcs = request.getfixturevalue("gcs")
    bucket = f"lease-{request.node.name.split('[')[0][-20:].replace('_', '-')}"
    gcs.create_bucket(bucket)
    return f"gs://{bucket}/out", gcs


def _exists(output: str, gcs) -> bool:
    if gcs is None:
        return (Path(output) / LEASE_FILE).exists()
    bucket, key = split_gcs(output)
    return gcs.bucket(bucket).blob(f"{key}/{LEASE_FILE}").exists()


def test_a_second_job_is_refused_naming_the_owner_and_expiry(output) -> None:
    folder, gcs = output
    with Lease(folder, "run-a", gcs_client=gcs):
        owner = rf"run run-a \(host .+, pid {os.getpid()}\) until 20\d\d-\d\d-\d\dT"
        with pytest.raises(LeaseHeldError, match=f"--output {folder} is in use .*: {owner}"):
            Lease(folder, "run-b", gcs_client=gcs).acquire()
        assert _exists(folder, gcs)
    assert not _exists(folder, gcs)  # released at the end
    with Lease(folder, "run-c", gcs_client=gcs):
        pass


def test_the_lease_is_released_when_the_job_fails(output) -> None:
    folder, gcs = output
    with pytest.raises(RuntimeError, match="the job broke"), Lease(folder, "run-a", gcs_client=gcs):
        raise RuntimeError("the job broke")
    assert not _exists(folder, gcs)


def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_release_it(output) -> None:
    folder, gcs = output
    stale = Lease(folder, "run-a", ttl=0.5, gcs_client=gcs)
    stale.acquire()  # held by a live process (this one), never renewed: it expires
    time.sleep(0.7)
    fresh = Lease(folder, "run-b", gcs_client=gcs)
    fresh.acquire()
    stale.release()  # too late: the lease is run-b's now
    with pytest.raises(LeaseHeldError, match="run run-b"):
        Lease(folder, "run-c", gcs_client=gcs).acquire()
    fresh.release()
    assert not _exists(folder, gcs)


def test_a_held_lease_is_renewed_until_released(output) -> None:
    folder, gcs = output
    with Lease(folder, "run-a", ttl=1.0, gcs_client=gcs):
        time.sleep(1.5)  # past the first expiry: the holder renewed it every 0.2 s
        with pytest.raises(LeaseHeldError, match="run run-a"):
            Lease(folder, "run-b", gcs_client=gcs).acquire()


def test_the_lease_of_a_process_gone_from_this_host_is_taken_over(tmp_path) -> None:
    """A killed local job leaves its lease; the next run on the same host need not wait for
    the expiry when the holder's process no longer exists."""
    code = "import sys; from pipelines.inpaint.lease import Lease; Lease(sys.argv[1], 'dead')"
    code += ".acquire()"  # and exit without releasing it
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert '"run_id": "dead"' in (tmp_path / LEASE_FILE).read_text()
    with Lease(str(tmp_path), "run-b"):
        assert '"run_id": "run-b"' in (tmp_path / LEASE_FILE).read_text()
