"""The embedding model ships inside the wheel: it loads and embeds with no network at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# In a fresh interpreter (so no model is cached yet): every socket connection fails, the
# Hugging Face hub is told it is offline and proxies point at a closed port. Loading must not
# even try the network, and the vectors must mean something.
OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable in this test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import warnings
    warnings.simplefilter("error")  # wordllama warns before falling back to a download

    from bot import meaning

    vectors = meaning.embed(
        ["how do I reset my VPN password", "the vpn keeps rejecting my login", "lunch menu"]
    )
    close, far = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert vectors.shape == (3, meaning.DIMENSIONS), vectors.shape
    assert close > far, (close, far)
    print("offline ok", round(close, 2), round(far, 2))
    """
)


def test_the_model_loads_and_embeds_with_the_network_unreachable() -> None:
    closed = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "http_proxy": closed,
        "https_proxy": closed,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "offline ok" in done.stdout
