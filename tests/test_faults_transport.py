"""The second fault audit's socket and wire findings (issue 24: 7, 8, 9, 10, 16, 17, 18), each reproduced
on real sockets on 127.0.0.1 against a server in this process.

Timeouts the tests need short are the transport's and the client table's module constants, patched before
the server or the connection they govern is made; every wait is on a reply, or on the server closing a
connection, with a deadline (osc_helpers.TIMEOUT)."""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time

import pytest
from osc_helpers import TIMEOUT, TcpClient, UdpClient, message
from pythonosc import slip
from pythonosc.osc_message import OscMessage
from sonocanvas.bridge.jobs.journal import Journal
from sonocanvas.bridge.osc import clients as clients_module
from sonocanvas.bridge.osc import handlers
from sonocanvas.bridge.osc import server as server_module
from sonocanvas.bridge.osc import transport as transport_module
from sonocanvas.bridge.osc.addresses import REQUESTS
from sonocanvas.bridge.osc.server import REFUSAL_BURST, Server
from sonocanvas.bridge.osc.services import Services
from sonocanvas.bridge.osc.transport import MAX_FRAME, MAX_TCP_CONNECTIONS, SlipDecoder
from sonocanvas.bridge.osc.wire import REPLACEMENT, decode_packet, encode_bundle, encode_message
from sonocanvas.bridge.request.build import Limits
from sonocanvas.bridge.request.presets import PresetStore
from sonocanvas.bridge.store.paths import shipped_presets_dir

TOKEN = "s3cret-token"


class Runner:
    """A job runner without models: one step, then it waits at its job's gate if the test set one."""

    def __init__(self) -> None:
        self.gates: dict[str, threading.Event] = {}

    def __call__(self, job, on_step, done) -> None:
        on_step(1, 2)
        gate = self.gates.get(job.job_id)
        if gate is not None:
            assert gate.wait(TIMEOUT), f"the test never opened the gate of {job.job_id!r}"
        on_step(2, 2)  # raises JobCancelled if it was


@pytest.fixture
def make_server(tmp_path):
    made: list[tuple[Server, Runner]] = []

    def make(token: str = "") -> tuple[Server, Runner]:
        runner = Runner()
        services = Services(run=runner, limits=Limits((tmp_path,), frozenset({"space"}), frozenset({"auffusion"})),
                            journal=Journal(tmp_path / f"journal-{len(made)}.sqlite3"), version="test",
                            device="cpu", models="none", token=token,
                            presets=PresetStore(shipped_presets_dir(), tmp_path / "presets"))
        server = Server(services, port=0).start()
        made.append((server, runner))
        return server, runner

    yield make
    for server, runner in made:
        for gate in runner.gates.values():
            gate.set()
        server.close()


def until_closed(sock: socket.socket) -> list[OscMessage]:
    """Every message the server sends on `sock` until it closes the connection (a deadline: TIMEOUT)."""
    sock.settimeout(TIMEOUT)
    decoder = SlipDecoder()
    got = []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:  # closed with our bytes unread: the end all the same
            return got
        if not data:
            return got
        got += [OscMessage(packet) for packet in decoder.feed(data)]


def connect(server: Server, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(server.address, timeout=TIMEOUT, source_address=(source, 0))


def status_over(sock: socket.socket) -> str:
    """Send /sonocanvas/status on a TCP socket; the address of the first reply."""
    sock.sendall(slip.encode(message("/sonocanvas/status")))
    decoder = SlipDecoder()
    while True:
        packets = decoder.feed(sock.recv(65536))
        if packets:
            return OscMessage(packets[0]).address


def osc(address: str, *typed: tuple[str, bytes]) -> bytes:
    """A message built by hand from (type tag, encoded value) pairs: any tag, any value, as a client may send."""
    def padded(raw: bytes) -> bytes:
        return raw + b"\x00" * (4 - len(raw) % 4)
    tags = "," + "".join(tag for tag, _ in typed)
    return padded(address.encode()) + padded(tags.encode()) + b"".join(data for _, data in typed)


def blob(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data + b"\x00" * (-len(data) % 4)


ARGUMENTS = {  # one value of every type tag the server reads (docs/osc.md, Errors and robustness)
    "i": ("i", struct.pack(">i", 7)), "h": ("h", struct.pack(">q", 2**40)), "f": ("f", struct.pack(">f", 1.5)),
    "d": ("d", struct.pack(">d", 2.5)), "s": ("s", b"x\x00\x00\x00"), "S": ("S", b"x\x00\x00\x00"),
    "b": ("b", blob(b"\x01\x02")), "c": ("c", struct.pack(">I", 0x41)),
    "c surrogate": ("c", struct.pack(">I", 0xD800)), "c past U+10FFFF": ("c", struct.pack(">I", 0x110000)),
    "r": ("r", struct.pack(">I", 0x11223344)), "m": ("m", b"\x00\x90\x40\x7f"), "t": ("t", struct.pack(">Q", 1)),
    "T": ("T", b""), "F": ("F", b""), "N": ("N", b""), "I": ("I", b""),
}


def sync(client: UdpClient, sentinel: str) -> None:
    """Wait until the server has run all that `client` sent: its packets run in order, so once a cancel of
    `sentinel` is answered, everything before it was. The answer comes to `client` even after a hello of
    its named another reply port."""
    client.send("/sonocanvas/cancel", sentinel, "reply_port", client.port)
    while True:
        address, args = client.next()
        if address == "/sonocanvas/error" and args[0] == sentinel:
            return


def no_tracebacks(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


# 7: slowloris --------------------------------------------------------------------------------------------


def test_f7_a_connection_without_a_complete_frame_is_closed_and_its_place_freed(make_server, monkeypatch):
    """The audit's 64 connections holding `\\xc0/sono` (and others holding nothing, or a frame begun after a
    whole one) each lose their place after FRAME_TIMEOUT, told why; then a newcomer is served."""
    monkeypatch.setattr(transport_module, "FRAME_TIMEOUT", 0.5)
    server, _ = make_server()
    socks = [connect(server) for _ in range(MAX_TCP_CONNECTIONS)]
    try:
        for i, sock in enumerate(socks):
            if i % 3 == 0:
                sock.sendall(b"\xc0/sono")
            elif i % 3 == 1:
                sock.sendall(slip.encode(message("/sonocanvas/status")) + b"\xc0/sono")
        for i, sock in enumerate(socks):
            got = until_closed(sock)
            assert [m.address for m in got] == ["/sonocanvas/status"] * (i % 3 == 1) + ["/sonocanvas/error"], i
            assert got[-1].params[:2] == ["", "connection"] and "no complete frame in 0.5 s" in got[-1].params[2]
        with connect(server) as newcomer:
            assert status_over(newcomer) == "/sonocanvas/status"
    finally:
        for sock in socks:
            sock.close()


def test_f7_with_a_token_strangers_give_way_to_a_client_that_has_it(make_server, monkeypatch):
    """Every place held by connections that never said the token's hello: a newcomer takes the oldest's
    place, and with the token it is served. The frame timeout is out of the way, so eviction is what works."""
    monkeypatch.setattr(transport_module, "FRAME_TIMEOUT", 600.0)
    server, _ = make_server(token=TOKEN)
    strangers = [connect(server) for _ in range(MAX_TCP_CONNECTIONS)]
    try:
        for sock in strangers:
            sock.sendall(b"\xc0/sono")
        holder = TcpClient(server.address)  # accepted after all of them: the kernel's accept queue is in order
        try:
            holder.send("/sonocanvas/hello", 9, TOKEN)
            holder.expect("/sonocanvas/ready")
            holder.send("/sonocanvas/status")
            holder.expect("/sonocanvas/status")
        finally:
            holder.close()
        (told,) = until_closed(strangers[0])
        assert told.params[:2] == ["", "connection"] and "had not said the token's hello" in told.params[2]
    finally:
        for sock in strangers:
            sock.close()


def test_f7_a_host_holding_every_place_gives_one_to_another_host(make_server):
    """One host with all 64 places (a client or an attacker, alike to the server) cannot lock another out:
    the newcomer from another address takes the place of the first host's quietest connection."""
    server, _ = make_server()
    try:
        probe = connect(server, "127.0.0.2")
    except OSError as error:
        pytest.skip(f"127.0.0.2 is not a loopback address here: {error}")
    hogs = [probe] + [connect(server, "127.0.0.2") for _ in range(MAX_TCP_CONNECTIONS - 1)]
    try:
        for sock in hogs:  # one at a time, answered: the first is the quietest
            assert status_over(sock) == "/sonocanvas/status"
        with connect(server, "127.0.0.1") as newcomer:
            assert status_over(newcomer) == "/sonocanvas/status"
        (told,) = until_closed(hogs[0])
        assert told.params[:2] == ["", "connection"] and "127.0.0.2 held the most" in told.params[2]
    finally:
        for sock in hogs:
            sock.close()


def test_f7_an_idle_connection_is_closed_but_not_one_waiting_for_its_job(make_server, monkeypatch):
    monkeypatch.setattr(transport_module, "TCP_IDLE_TIMEOUT", 0.5)
    server, runner = make_server()
    runner.gates["long"] = threading.Event()
    waiting = TcpClient(server.address)
    try:
        waiting.send("/sonocanvas/generate", "long", "image_prompt", "a", "audio_prompt", "b")
        waiting.expect("/sonocanvas/queued")
        assert waiting.expect("/sonocanvas/progress") == ["long", 1, 2]  # its last reply until the gate opens
        for _ in range(2):  # each opened after the waiting one went quiet, each closed once idle for 0.5 s
            with connect(server) as idle:
                assert status_over(idle) == "/sonocanvas/status"
                (told,) = until_closed(idle)
                assert told.params[:2] == ["", "connection"] and "nothing sent either way for 0.5 s" in told.params[2]
        waiting.send("/sonocanvas/status")  # quiet for longer than the idle ones, and still served
        waiting.expect("/sonocanvas/status")
        runner.gates["long"].set()
        assert server.jobs.wait_idle(TIMEOUT)
        _, field, reason = waiting.expect("/sonocanvas/error")  # its job over, it is idle like any other
        assert field == "connection" and "nothing sent either way" in reason
    finally:
        waiting.close()


# 8: trickle ------------------------------------------------------------------------------------------------


def test_f8_framing_costs_time_linear_in_the_bytes_received():
    """A frame trickled in 64-byte pieces: four times the bytes cost about four times the CPU time, not sixteen
    (the decoder copied its whole buffer on every piece). This thread's CPU time, best of three, as a ratio."""
    def cost(size: int) -> float:
        stream = b"\xc0" + b"x" * size  # a frame begun and never ended, as the audit's trickling clients send
        pieces = [stream[i:i + 64] for i in range(0, len(stream), 64)]
        best = float("inf")
        for _ in range(3):
            decoder = SlipDecoder()
            start = time.thread_time()
            for piece in pieces:
                assert decoder.feed(piece) == []
            best = min(best, time.thread_time() - start)
        return best

    small = MAX_FRAME // 4 - 1024
    assert cost(4 * small) < 8 * cost(small)


def test_f8_a_frame_trickled_over_a_socket_is_served_whole(make_server):
    server, _ = make_server()
    client = TcpClient(server.address)
    try:
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        frame = slip.encode(encode_message("/sonocanvas/status", b"\x00" * (512 << 10)))
        for i in range(0, len(frame), 1024):
            client.send_raw(frame[i:i + 1024])
        assert client.expect("/sonocanvas/error")[:2] == ["", "arguments"]  # decoded whole, then refused
        client.send("/sonocanvas/status")
        client.expect("/sonocanvas/status")
    finally:
        client.close()


# 9 and 10, and every argument type --------------------------------------------------------------------------


def test_f9_a_c_argument_that_is_no_character_is_decoded_and_the_rest_of_the_bundle_served(make_server, caplog):
    caplog.set_level(logging.INFO, logger="sonocanvas")
    for code in (0xD800, 0xDFFF, 0x110000, 0xFFFFFFFF):
        (decoded,) = decode_packet(osc("/x", ("c", struct.pack(">I", code))))
        assert decoded.args == [REPLACEMENT]
    assert decode_packet(osc("/x", ("c", struct.pack(">I", 0x1F600))))[0].args == ["\U0001F600"]
    assert decode_packet(encode_message("/x", "caf\udce9"))[0].args == ["caf\\udce9"]  # a path's stray byte
    server, _ = make_server()
    client = UdpClient(server.address)
    try:
        client.send_raw(encode_bundle(
            osc("/sonocanvas/generate", ("s", b"j9\x00\x00"), ("c", struct.pack(">I", 0xD800)), ARGUMENTS["s"]),
            osc("/sonocanvas/preset/get", ("c", struct.pack(">I", 0xDFFF))),
            message("/sonocanvas/status")))
        job_id, field, reason = client.expect("/sonocanvas/error")
        assert (job_id, field) == ("j9", REPLACEMENT) and reason.startswith(f"{REPLACEMENT}: unknown key")
        assert client.expect("/sonocanvas/error")[1] == "name"
        client.expect("/sonocanvas/status")  # the rest of the bundle was served
    finally:
        client.close()
    assert no_tracebacks(caplog) == []


def test_f10_a_nil_reply_port_in_hello_is_refused_on_its_field_over_udp_and_tcp(make_server, caplog):
    caplog.set_level(logging.INFO, logger="sonocanvas")
    server, _ = make_server()
    udp = UdpClient(server.address)
    tcp = TcpClient(server.address)
    try:
        for tag in ("N", "I"):
            udp.send_raw(osc("/sonocanvas/hello", (tag, b"")))
            job_id, field, reason = udp.expect("/sonocanvas/error")
            assert (job_id, field) == ("", "reply_port") and "nil" in reason
            tcp.send_raw(slip.encode(osc("/sonocanvas/hello", (tag, b""))))
            assert tcp.expect("/sonocanvas/error")[1] == "reply_port"
        tcp.send("/sonocanvas/generate", "after", "image_prompt", "a", "audio_prompt", "b")
        tcp.expect("/sonocanvas/queued")  # journalled: the connection's reply port was never set to nil
        assert tcp.expect("/sonocanvas/progress") == ["after", 1, 2]
        assert server.jobs.wait_idle(TIMEOUT)
    finally:
        udp.close()
        tcp.close()
    assert no_tracebacks(caplog) == []


def test_every_argument_type_in_every_request_is_decoded_or_refused_on_its_field(make_server, caplog):
    """Each type tag the server reads, at each of the first three places of every request: an answer or an
    error naming a field, never the server's own fault, and no traceback in the log (every `server` error
    comes with one, so the log covers the answers a hello sent elsewhere too)."""
    caplog.set_level(logging.INFO, logger="sonocanvas")
    server, _ = make_server()
    client = UdpClient(server.address)
    plain = ("s", b"x\x00\x00\x00")
    try:
        sent = 0
        for address in REQUESTS:
            for value in ARGUMENTS.values():
                for shape in ([value], [value, plain, plain], [plain, value, plain], [plain, plain, value]):
                    client.send_raw(osc(address, *shape))
                    sent += 1
                    if sent % 50 == 0:  # so that the socket buffers never drop one
                        sync(client, f"sync-{sent}")
        sync(client, "sync-end")
        faults = [args for address, args in client.seen if address == "/sonocanvas/error" and args[1] == "server"]
        assert faults == []
        assert sent == len(REQUESTS) * len(ARGUMENTS) * 4
    finally:
        client.close()
    assert no_tracebacks(caplog) == []


# 16: the client table -------------------------------------------------------------------------------------


def hello(server: Server) -> tuple[UdpClient, str]:
    client = UdpClient(server.address)
    return client, client.hello()[3]


def secret_known(server: Server, probe: UdpClient, secret: str) -> bool:
    """Whether the server still knows a client secret: a cancel carrying it is refused on `job_id` (known,
    no such job) or on `client` (forgotten)."""
    probe.send("/sonocanvas/cancel", "nothing", "client", secret, "reply_port", probe.port)
    field = probe.expect("/sonocanvas/error")[1]
    assert field in ("job_id", "client")
    return field == "job_id"


def test_f16_a_flood_of_hellos_forgets_the_quietest_clients_never_one_with_a_live_job(make_server, monkeypatch):
    monkeypatch.setattr(clients_module, "MAX_CLIENTS", 8)
    server, runner = make_server()
    runner.gates["live"] = threading.Event()
    clients = []
    try:
        busy, busy_secret = hello(server)
        clients.append(busy)
        busy.send("/sonocanvas/generate", "live", "image_prompt", "a", "audio_prompt", "b")
        busy.expect("/sonocanvas/progress")
        quiet, quiet_secret = hello(server)
        active, active_secret = hello(server)
        clients += [quiet, active]
        flood = [hello(server) for _ in range(4)]
        active.send("/sonocanvas/status")  # it used the server after those hellos: the last of them to go
        active.expect("/sonocanvas/status")
        flood += [hello(server) for _ in range(4)]  # the table is full after the first; three are forgotten
        clients += [client for client, _ in flood]
        probe = UdpClient(server.address)
        clients.append(probe)
        assert secret_known(server, probe, busy_secret)  # the oldest, but its job is live
        assert not secret_known(server, probe, quiet_secret)
        assert [secret_known(server, probe, secret) for _, secret in flood[:3]] == [False, False, True]
        assert secret_known(server, probe, active_secret)
        runner.gates["live"].set()
        assert server.jobs.wait_idle(TIMEOUT)
    finally:
        for client in clients:
            client.close()


def test_f16_when_every_known_client_has_a_live_job_a_new_hello_is_refused_on_client(make_server, monkeypatch):
    monkeypatch.setattr(clients_module, "MAX_CLIENTS", 1)
    server, runner = make_server()
    runner.gates["live"] = threading.Event()
    busy, _ = hello(server)
    other = UdpClient(server.address)
    try:
        busy.send("/sonocanvas/generate", "live", "image_prompt", "a", "audio_prompt", "b")
        busy.expect("/sonocanvas/progress")
        other.send("/sonocanvas/hello", other.port)
        assert other.expect("/sonocanvas/error")[:2] == ["", "client"]
        runner.gates["live"].set()
        assert server.jobs.wait_idle(TIMEOUT)
        other.hello()  # the job ended: that client may now be forgotten
    finally:
        busy.close()
        other.close()


# 17: refusals to strangers --------------------------------------------------------------------------------


def test_f17_token_refusals_to_one_address_are_rate_limited(make_server, monkeypatch):
    """A stranger's wrong-token hellos get REFUSAL_BURST answers, then none (the refill is off here, so the
    count is exact): 28 bytes in can no longer make 136 bytes out for every spoofed datagram."""
    monkeypatch.setattr(server_module, "REFUSALS_PER_SECOND", 0.0)
    server, _ = make_server(token=TOKEN)
    stranger = UdpClient(server.address)
    try:
        for _ in range(4 * REFUSAL_BURST):
            stranger.send("/sonocanvas/hello", stranger.port, "wrong")
        stranger.send("/sonocanvas/hello", stranger.port, TOKEN)  # not a refusal: always answered
        while stranger.next()[0] != "/sonocanvas/ready":
            pass
        refusals = [args for address, args in stranger.seen if address == "/sonocanvas/error"]
        assert len(refusals) == REFUSAL_BURST and all(args[1] == "token" for args in refusals)
    finally:
        stranger.close()


# 18: fair dispatch ----------------------------------------------------------------------------------------


def test_f18_a_client_with_nothing_queued_goes_before_a_floods_backlog(make_server, monkeypatch):
    """A TCP client floods cancels; its first blocks the dispatcher until the server has read the flood's
    third and, over UDP, another client's status and the packet after it. Released, the dispatcher serves
    that status next, before the flood's second: the status waits for one task, not for the flood."""
    server, _ = make_server()
    decoded: list[str] = []
    everything_read = threading.Event()
    real_decode = server_module.decode_packet

    def watching_decode(data: bytes):
        messages = real_decode(data)
        for m in messages:
            decoded.append(m.args[0] if m.args else m.address)
        if "flood-3" in decoded and "other-sync" in decoded:
            everything_read.set()
        return messages

    order: list[str] = []
    inside = threading.Event()
    real_cancel, real_status = handlers.HANDLERS["/sonocanvas/cancel"], handlers.HANDLERS["/sonocanvas/status"]

    def cancel(context, call):
        order.append(call.args[0])
        if call.args[0] == "flood-1":
            inside.set()
            assert everything_read.wait(TIMEOUT), f"the server read only {decoded} while a handler ran"
        real_cancel(context, call)

    def status(context, call):
        order.append("status")
        real_status(context, call)

    monkeypatch.setattr(server_module, "decode_packet", watching_decode)
    monkeypatch.setitem(handlers.HANDLERS, "/sonocanvas/cancel", cancel)
    monkeypatch.setitem(handlers.HANDLERS, "/sonocanvas/status", status)
    flooder = TcpClient(server.address)
    other = UdpClient(server.address)
    try:
        flooder.send_raw(b"".join(slip.encode(message("/sonocanvas/cancel", f"flood-{i}")) for i in range(1, 41)))
        assert inside.wait(TIMEOUT)  # the dispatcher is inside the flood's first
        other.send("/sonocanvas/status")
        other.send("/sonocanvas/cancel", "other-sync")
        other.expect("/sonocanvas/status")
        assert other.expect("/sonocanvas/error")[0] == "other-sync"
        for i in range(1, 41):  # in its own order, all of it, none a fault (the first would be, had it timed out)
            assert flooder.expect("/sonocanvas/error")[:2] == [f"flood-{i}", "job_id"]
        assert order[:3] == ["flood-1", "status", "flood-2"]
        assert order.index("other-sync") < order.index("flood-4")  # then the two take turns
    finally:
        flooder.close()
        other.close()


def test_an_unknown_secret_is_answered_at_the_requests_reply_port(make_server):
    """A restarted server knows no secret: its `client` error must reach the client where every other answer
    to that request goes, its `reply_port` (docs/osc.md), not the source port of a sender like Max's
    `udpsend`, where nobody listens; the device then says hello again at once (issue 19, item 3)."""
    server, _ = make_server()
    listener, sender = UdpClient(server.address), UdpClient(server.address)
    try:
        sender.send("/sonocanvas/generate", "j1", "image_prompt", "a", "audio_prompt", "b", "client", "f" * 32,
                    "reply_port", listener.port)
        job_id, field, reason = listener.expect_error()
        assert (job_id, field) == ("j1", "client") and "hello again" in reason
        assert sender.empty()
    finally:
        listener.close()
        sender.close()
