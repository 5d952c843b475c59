"""The round-trip counter of bench.heartbeat, fed PostgreSQL protocol bytes made by hand.

Each test builds what a client sends (protocol 3.0: the untyped startup packets, then typed
messages [type][int32 length][payload]) and checks what bench.pgwire counts: one round trip per
Sync and per simple Query, however the bytes are cut into reads.
"""
import socket
import struct
import threading
from collections import Counter

import pytest

from bench.pgwire import CountingProxy, WireCounter, round_trips

PROTOCOL_3 = 196608
SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102


def cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def untyped(code: int, payload: bytes = b"") -> bytes:
    """A startup-phase packet: [int32 length including itself][int32 code][payload]."""
    return struct.pack("!ii", 8 + len(payload), code) + payload


def startup(user: str = "postgres", database: str = "tracker_bench") -> bytes:
    return untyped(PROTOCOL_3, cstring("user") + cstring(user) + cstring("database") + cstring(database) + b"\0")


def message(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!i", 4 + len(payload)) + payload


def parse(sql: str, name: str = "") -> bytes:
    return message(b"P", cstring(name) + cstring(sql) + struct.pack("!h", 0))


def bind(*values: bytes, statement: str = "") -> bytes:
    parameters = b"".join(struct.pack("!i", len(v)) + v for v in values)
    return message(b"B", cstring("") + cstring(statement) + struct.pack("!hh", 0, len(values)) + parameters
                   + struct.pack("!h", 0))


def describe() -> bytes:
    return message(b"D", b"P" + cstring(""))


def execute() -> bytes:
    return message(b"E", cstring("") + struct.pack("!i", 0))


SYNC = message(b"S")
TERMINATE = message(b"X")


def query(sql: str) -> bytes:
    return message(b"Q", cstring(sql))


def counted(*reads: bytes) -> Counter:
    totals = Counter()
    counter = WireCounter(totals)
    for data in reads:
        counter.feed(data)
    return totals


def a_connection() -> bytes:
    """What psycopg sends for one heartbeat on a new connection: SSL refused, startup, a prepared statement."""
    return (untyped(SSL_REQUEST) + startup() + parse("SELECT $1::int8", "_pg3_0") + bind(b"42", statement="_pg3_0")
            + describe() + execute() + SYNC)


def test_startup_then_an_extended_query_is_one_round_trip():
    counts = counted(a_connection())
    assert counts == Counter({"special request": 1, "startup": 1, "P": 1, "B": 1, "D": 1, "E": 1, "S": 1})
    assert round_trips(counts) == 1


def test_an_already_prepared_statement_is_bind_execute_sync_one_round_trip_each():
    heartbeat = bind(b"1", b"2", statement="_pg3_0") + execute() + SYNC
    counts = counted(startup() + heartbeat * 3)
    assert counts == Counter({"startup": 1, "B": 3, "E": 3, "S": 3})
    assert round_trips(counts) == 3


def test_each_simple_query_is_a_round_trip_of_its_own():
    counts = counted(startup() + query("BEGIN") + query("SELECT 1") + query("COMMIT") + TERMINATE)
    assert counts == Counter({"startup": 1, "Q": 3, "X": 1})
    assert round_trips(counts) == 3


def test_a_cancel_request_and_an_encryption_request_are_not_a_startup():
    assert counted(untyped(CANCEL_REQUEST, struct.pack("!ii", 4242, 99))) == Counter({"special request": 1})
    counts = counted(untyped(GSSENC_REQUEST) + untyped(SSL_REQUEST) + startup() + query("SELECT 1"))
    assert counts == Counter({"special request": 2, "startup": 1, "Q": 1})


@pytest.mark.parametrize("cut", range(1, len(a_connection())))
def test_a_stream_cut_anywhere_into_two_reads_counts_the_same(cut):
    stream = a_connection()
    assert counted(stream[:cut], stream[cut:]) == counted(stream)


def test_a_stream_read_one_byte_at_a_time_counts_the_same():
    stream = a_connection() + query("SELECT 1") + TERMINATE
    assert counted(*(stream[i:i + 1] for i in range(len(stream)))) == counted(stream)


def test_a_message_counts_once_its_header_is_in():
    totals = Counter()
    counter = WireCounter(totals)
    counter.feed(startup()[:7])
    assert totals == Counter()
    counter.feed(startup()[7:] + SYNC[:4])  # the type byte and 3 of the 4 length bytes
    assert totals == Counter({"startup": 1})
    counter.feed(SYNC[4:])
    assert totals == Counter({"startup": 1, "S": 1})


def test_a_payload_larger_than_a_read_is_skipped_not_parsed():
    # A parameter full of bytes that look like Sync and Query messages: none of them may count.
    lookalikes = (SYNC + query("SELECT 1")) * 20_000
    stream = startup() + bind(lookalikes) + execute() + SYNC
    reads = [stream[i:i + 65536] for i in range(0, len(stream), 65536)]
    assert len(reads) > 4
    counts = counted(*reads)
    assert counts == Counter({"startup": 1, "B": 1, "E": 1, "S": 1})
    assert round_trips(counts) == 1


def test_round_trips_are_the_syncs_and_the_simple_queries():
    assert round_trips(Counter({"P": 2, "B": 2, "E": 2, "S": 2, "Q": 1, "X": 1, "startup": 1})) == 3
    assert round_trips(Counter()) == 0


class FakePostgres:
    """A TCP server that keeps every byte it receives and answers AuthenticationOk to each client."""

    AUTHENTICATION_OK = message(b"R", struct.pack("!i", 0))

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.thread = threading.Thread(target=self.serve_one, daemon=True)
        self.thread.start()

    def serve_one(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            connection.sendall(self.AUTHENTICATION_OK)
            while data := connection.recv(65536):
                self.received += data

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.listener.close()


def test_the_proxy_forwards_both_ways_unchanged_and_counts_only_what_the_client_sends():
    upstream = FakePostgres()
    proxy = CountingProxy("127.0.0.1", upstream.port)
    port = proxy.start()
    sent = a_connection() + query("SELECT 1") + TERMINATE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            for i in range(0, len(sent), 7):  # in small writes, as a slow client would
                client.sendall(sent[i:i + 7])
            answer = client.recv(64)
            client.shutdown(socket.SHUT_WR)
            upstream.close()
        counts = proxy.wait_quiet(quiet_s=0.2, timeout=10)
    finally:
        proxy.stop()
    assert bytes(upstream.received) == sent
    assert answer == FakePostgres.AUTHENTICATION_OK
    assert counts == Counter({"special request": 1, "startup": 1, "P": 1, "B": 1, "D": 1, "E": 1, "S": 1, "Q": 1,
                              "X": 1})
    assert round_trips(counts) == 2
