"""What a client receives is only OSC `i`, `f` and `s` (Max's udpreceive documents no other type): bools go out
as int 0/1, and every preset's `/sonocanvas/preset` reply, built by its handler, is encoded that way."""
from types import SimpleNamespace

from sonocanvas.bridge.osc.handlers import HANDLERS, Call
from sonocanvas.bridge.osc.wire import decode_packet, encode_message
from sonocanvas.bridge.request.presets import PresetStore
from sonocanvas.bridge.store.paths import shipped_presets_dir


def type_tags(data: bytes) -> str:
    after_address = data.index(b",")
    return data[after_address + 1:data.index(b"\x00", after_address)].decode()


def test_bools_go_out_as_ints_0_and_1():
    data = encode_message("/x", True, False, 3, 0.5, "s")
    assert type_tags(data) == "iiifs"
    assert decode_packet(data)[0].args == [1, 0, 3, 0.5, "s"]


class RecordingPeer:
    def __init__(self):
        self.sent = []

    def send(self, address, *args):
        self.sent.append(encode_message(address, *args))


def test_every_shipped_presets_reply_is_only_i_f_and_s(tmp_path):
    store = PresetStore(shipped_presets_dir(), tmp_path)
    store.save("mine", {"loop": True, "crop_last_columns": False})
    context = SimpleNamespace(services=SimpleNamespace(presets=store))  # a handler uses only its Context
    peer = RecordingPeer()
    HANDLERS["/sonocanvas/preset/list"](context, Call([], peer, None, None))
    for name in store.names():
        HANDLERS["/sonocanvas/preset/get"](context, Call([name], peer, None, None))
    assert len(peer.sent) > len(store.names())
    for data in peer.sent:
        assert set(type_tags(data)) <= set("ifs"), decode_packet(data)[0]
    replies = [decode_packet(data)[0] for data in peer.sent if decode_packet(data)[0].address == "/sonocanvas/preset"]
    mine = next(reply.args for reply in replies if reply.args[0] == "mine")
    assert mine[mine.index("loop") + 1] == 1 and mine[mine.index("crop_last_columns") + 1] == 0
