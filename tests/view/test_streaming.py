"""The view streams a campaign's files: downloading a large run output never holds the file
in the server's memory."""

from __future__ import annotations

import http.client
import os
import tracemalloc

from conftest import serve

from scientist.campaign import Campaign

SIZE = 256 * 1024 * 1024
DOWNLOADS = 3


def test_downloads_of_a_large_output_stream_in_chunks(campaign: Campaign) -> None:
    big = campaign.root / "ideas" / "streaming" / "runs" / "run_1" / "outputs" / "big.bin"
    big.parent.mkdir(parents=True, exist_ok=True)
    with big.open("wb") as handle:  # sparse: 256 MB to read, nothing on disk
        handle.truncate(SIZE)
    relative = big.relative_to(campaign.root)
    try:
        with serve(campaign) as server:
            tracemalloc.start()
            try:
                for _ in range(DOWNLOADS):
                    assert _download(server.server_address[:2], f"/files/{relative}") == SIZE
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        os.unlink(big)
    assert peak < 32 * 1024 * 1024, f"the view held {peak / 2**20:.0f} MB at once"


def _download(address: tuple[str, int], path: str) -> int:
    """Fetch `path` in 1 MB reads, counting the bytes (the client keeps none of them)."""
    connection = http.client.HTTPConnection(*address, timeout=120)
    connection.request("GET", path)
    reply = connection.getresponse()
    assert reply.status == 200 and int(reply.getheader("Content-Length")) == SIZE
    received = 0
    while chunk := reply.read(1024 * 1024):
        received += len(chunk)
    connection.close()
    return received


def test_a_missing_file_is_still_404(campaign: Campaign) -> None:
    with serve(campaign) as server:
        connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
        connection.request("GET", "/files/ideas/none/nothing.bin")
        assert connection.getresponse().status == 404
