"""Reading a queue's messages off its pipe: whole, waited for, torn, at its end.

Each test runs twice: with the non-blocking read the kernel offers
(``preadv2`` with ``RWF_NOWAIT``) and with the poll-then-read path other
systems take.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection, Pipe

import pytest

from qsim.engine import msgread
from qsim.engine.msgread import ATOMIC, MessageReader

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(params=["nowait", "poll"])
def pipe(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MessageReader, Connection]]:
    if request.param == "nowait":
        if not msgread.NOWAIT:
            pytest.skip("this kernel cannot read a pipe without blocking (RWF_NOWAIT)")
    else:
        monkeypatch.setattr(msgread, "NOWAIT", False)
    r, w = Pipe(duplex=False)
    yield MessageReader(r), w
    r.close()
    if not w.closed:
        w.close()


def test_an_empty_pipe_gives_nothing_without_waiting(
    pipe: tuple[MessageReader, Connection],
) -> None:
    reader, _w = pipe
    assert reader.read_nowait() is None


@pytest.mark.parametrize("size", [0, 1, ATOMIC, ATOMIC + 1, 10_000, 60_000])
def test_messages_come_out_whole_and_in_order(
    pipe: tuple[MessageReader, Connection], size: int
) -> None:
    reader, w = pipe
    sent = [bytes([i]) * size for i in range(3)] if size else [b"", b"", b""]
    for m in sent[:1]:
        w.send_bytes(m)
    got = [reader.read_nowait()]
    w.send_bytes(sent[1])
    got.append(reader.read())
    w.send_bytes(sent[2])
    got.append(reader.read_nowait())
    assert [bytes(g) for g in got if g is not None] == sent
    assert reader.read_nowait() is None


def test_a_message_bigger_than_the_pipe_is_read_as_it_comes(
    pipe: tuple[MessageReader, Connection],
) -> None:
    reader, w = pipe
    item = pickle.dumps((0, 7, 0, os.urandom(1 << 20)))
    t = threading.Thread(target=w.send_bytes, args=(item,))
    t.start()
    got = None
    while got is None:  # the writer fills the pipe, the reader empties it
        reader._poll.poll(1000)
        got = reader.read_nowait()
    t.join()
    assert bytes(got) == item


@pytest.mark.parametrize("cut", [2, 8_000])  # in its length, in its bytes
def test_a_writer_that_stops_half_way_is_reported_and_can_be_left(
    pipe: tuple[MessageReader, Connection], cut: int
) -> None:
    reader, w = pipe
    item = pickle.dumps((0, 42, 0, b"x" * 20_000))  # as workers put
    whole = len(item).to_bytes(4, "big") + item
    os.write(w.fileno(), whole[:cut])  # then the writer is "killed"
    stalls: list[tuple[int, int]] = []

    def on_stall(n: int, size: int, first: bytes, seconds: float) -> None:
        stalls.append((n, size))
        if size > 4:
            assert msgread.torn_item_id(first) == 42
        raise TimeoutError("stop")

    reader.on_stall = on_stall
    with pytest.raises(TimeoutError):
        reader.read_nowait()
    assert stalls == ([(2, 4)] if cut == 2 else [(cut - 4, len(item))])


def test_the_end_of_the_pipe_is_an_eof(pipe: tuple[MessageReader, Connection]) -> None:
    reader, w = pipe
    w.send_bytes(b"last")
    w.close()
    assert bytes(reader.read_nowait() or b"") == b"last"
    with pytest.raises(EOFError):
        reader.read_nowait()
