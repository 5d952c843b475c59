"""SQL round trips on the wire: a TCP proxy to PostgreSQL that counts what clients send.

The counter reads the client-to-server half of the PostgreSQL frontend/backend protocol
(version 3). A Sync ends an extended-protocol exchange (Parse/Bind/Describe/Execute ... Sync)
and a simple Query is an exchange of its own, so together they count the round trips.
"""
import asyncio
import struct
import threading
import time
from collections import Counter

STARTUP_SPECIAL_CODES = {80877102, 80877103, 80877104}  # CancelRequest, SSLRequest, GSSENCRequest


class WireCounter:
    """Counts the messages one client sends to PostgreSQL, by type.

    The stream starts with messages without a type byte ([int32 length][int32 code]): an
    SSL or GSS encryption request, then the startup message. After it, every message is
    [1-byte type][int32 length including itself][payload]. Reads may split a message anywhere.
    """

    def __init__(self, totals: Counter):
        self.totals = totals
        self.buffer = bytearray()
        self.in_startup = True
        self.to_skip = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.to_skip:
                n = min(self.to_skip, len(self.buffer))
                del self.buffer[:n]
                self.to_skip -= n
                if self.to_skip:
                    return
            if self.in_startup:
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self.buffer[:8])
                if code in STARTUP_SPECIAL_CODES:
                    self.totals["special request"] += 1
                else:
                    self.totals["startup"] += 1
                    self.in_startup = False
                self.to_skip = length
            else:
                if len(self.buffer) < 5:
                    return
                kind = chr(self.buffer[0])
                (length,) = struct.unpack("!i", self.buffer[1:5])
                self.totals[kind] += 1
                self.to_skip = 1 + length


def round_trips(counts: Counter) -> int:
    """Each Sync ends an extended-protocol exchange and each simple Query is one exchange."""
    return counts["S"] + counts["Q"]


class CountingProxy:
    """A TCP proxy to PostgreSQL, on its own event loop thread, that counts client messages."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.totals = Counter()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> int:
        """Start listening on 127.0.0.1; return the port."""
        self.thread.start()
        self.server = self.call(asyncio.start_server(self.handle, "127.0.0.1", 0))
        return self.server.sockets[0].getsockname()[1]

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def snapshot(self) -> Counter:
        async def copy():
            return Counter(self.totals)

        return self.call(copy())

    def wait_quiet(self, quiet_s: float = 1.0, timeout: float = 30.0) -> Counter:
        """Wait until no message has passed for `quiet_s` (requests that wrk left queued are done)."""
        deadline = time.monotonic() + timeout
        last, since = self.snapshot(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            current = self.snapshot()
            if current != last:
                last, since = current, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                break
        return last

    def stop(self) -> None:
        async def close():
            self.server.close()

        self.call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()

    async def handle(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        counter = WireCounter(self.totals)
        await asyncio.gather(
            self.pump(client_reader, server_writer, counter.feed),
            self.pump(server_reader, client_writer, None),
            return_exceptions=True,
        )

    @staticmethod
    async def pump(reader, writer, observe):
        try:
            while data := await reader.read(65536):
                if observe:
                    observe(data)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
