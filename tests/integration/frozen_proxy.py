"""A TCP proxy in its own process, so a test can SIGSTOP it: the link then goes silent with
no FIN, as when the PBX host freezes or a cable is pulled (an in-process proxy cannot)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from hotline.phones.baresip import free_port

PROXY_CODE = r"""
import socket, sys, threading
listen, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
server = socket.create_server(("127.0.0.1", listen), reuse_port=False)
while True:
    client, _ = server.accept()
    try:
        upstream = socket.create_connection((host, port))
    except OSError:  # the target is down (restarting): refuse this one, serve the next
        client.close()
        continue
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
"""
START_WAIT_S = 10.0


@dataclass
class FrozenProxy:
    """127.0.0.1:port forwarded to the target by a child process that can be frozen."""

    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, host: str, target_port: int, port: int = 0) -> FrozenProxy:
        """Listen on `port` (a free one when 0), e.g. the port of a proxy that was killed."""
        port = port or free_port()
        process = subprocess.Popen([sys.executable, "-c", PROXY_CODE, str(port), host, str(target_port)])
        deadline = time.monotonic() + START_WAIT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return cls(port, process)
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise
                time.sleep(0.05)

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Kill the proxy: the kernel resets both sides of every link it carried."""
        self.thaw()
        self.process.kill()
        self.process.wait()
