"""`sonocanvas serve --models tiny-random` as a real subprocess: liblo's oscsend/oscdump drive it, a
SIGKILL mid-job is reported to the job's client by the restarted server, a busy port is a clear error,
and it listens on IPv6 too."""
import json
import queue
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from osc_helpers import TIMEOUT, ServeProcess, TcpClient, UdpClient, free_udp_port, message, write_config
from pedalboard.io import AudioFile
from pythonosc.osc_message import OscMessage
from sonocanvas.bridge.jobs.journal import RESTART_MESSAGE
from sonocanvas.bridge.studio.studio import TINY_LABEL

needs_liblo = pytest.mark.skipif(not shutil.which("oscsend") or not shutil.which("oscdump"),
                                 reason="liblo-tools (oscsend, oscdump) are not installed")


@pytest.fixture(scope="module")
def config(tmp_path_factory, tiny_model_paths, sonocanvas_cache):
    return write_config(tmp_path_factory.mktemp("serve-cli"))


@pytest.fixture(scope="module")
def serve(config, sonocanvas_cache):
    process = ServeProcess(config, cache=sonocanvas_cache)
    yield process
    process.stop()


class Oscdump:
    """liblo's oscdump on a free port; its printed lines parsed back into (address, args)."""

    LINE = re.compile(r"^\S+ (/\S+) (\S*) ?(.*)$")

    def __init__(self):
        self.port = free_udp_port()
        self.proc = subprocess.Popen(["oscdump", "-L", str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def expect(self, address):
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            found = self.LINE.match(line.rstrip("\n"))
            assert found, line
            if found.group(1) == address:
                return shlex.split(found.group(3))
            assert found.group(1) != "/sonocanvas/error", line

    def expect_error(self):
        """The next /sonocanvas/error; progress passes by."""
        while True:
            found = self.LINE.match(self.lines.get(timeout=TIMEOUT).rstrip("\n"))
            if found.group(1) == "/sonocanvas/error":
                return shlex.split(found.group(3))
            assert found.group(1) == "/sonocanvas/progress", found.group(0)

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)


def send(server, path, types, *values):
    subprocess.run(["oscsend", server[0], str(server[1]), path, types, *map(str, values)], check=True, timeout=TIMEOUT)


def test_serve_prints_where_it_listens_what_it_loaded_and_where_clips_go(serve, config):
    text = "".join(serve.output)
    assert "[transformers]" not in text and "accelerate" not in text  # third-party chatter only at debug
    assert f"listening on udp://{serve.address[0]}:{serve.address[1]} and tcp://" in text
    assert f"models: {TINY_LABEL} on cpu" in text
    assert f"clips go to {config.parent / 'drop'}" in text


@needs_liblo
def test_oscsend_and_oscdump_drive_a_generation(serve):
    dump = Oscdump()
    try:
        send(serve.address, "/sonocanvas/generate", "ssssssisisi", "liblo", "image_prompt", "castle towers",
             "audio_prompt", "bell ringing", "steps", 4, "sample_rate", 22050, "reply_port", dump.port)
        assert dump.expect("/sonocanvas/queued") == ["liblo", "1"]
        assert dump.expect("/sonocanvas/progress") == ["liblo", "1", "4"]
        job_id, index, wav, png, record = dump.expect("/sonocanvas/done")
        assert (job_id, index) == ("liblo", "0") and Path(png).is_file() and Path(record).is_file()
        with AudioFile(wav) as f:
            rate, frames = f.samplerate, f.frames
        info = json.loads(Path(record).read_text())
        assert rate == 22050 and abs(frames - info["samples"] * 22050 / info["sample_rate"]) <= 1
        serve.wait_line(rf"INFO sonocanvas\.jobs: job 'liblo' \(generate\) from 127\.0\.0\.1:{dump.port}: done, "
                        r"waited \d+\.\d\d s, ran \d+\.\d\d s$")  # one log line per job
        # oscsend sends each message from a new source port: a job is its sender's, so only the client secret
        # of a hello lets a later oscsend cancel it (a reply_port alone names where replies go, not who asks).
        send(serve.address, "/sonocanvas/hello", "i", dump.port)
        secret = dump.expect("/sonocanvas/ready")[3]
        send(serve.address, "/sonocanvas/generate", "ssssssiss", "long", "image_prompt", "a", "audio_prompt", "b",
             "steps", 40, "client", secret)
        dump.expect("/sonocanvas/progress")
        send(serve.address, "/sonocanvas/cancel", "ssi", "long", "reply_port", dump.port)
        job_id, field, _ = dump.expect_error()
        assert (job_id, field) == ("long", "job_id")  # not the sender's job
        send(serve.address, "/sonocanvas/cancel", "sss", "long", "client", secret)
        assert dump.expect("/sonocanvas/cancelled") == ["long"]
        send(serve.address, "/sonocanvas/generate", "ssisi", "bad", "steps", 0, "reply_port", dump.port)
        job_id, field, message = dump.expect("/sonocanvas/error")
        assert (job_id, field) == ("bad", "steps") and message.startswith("steps: ")
    finally:
        dump.stop()


def test_killed_mid_job_and_restarted_tells_the_client(serve, config):
    client = UdpClient(serve.address)
    restarted = None
    try:
        client.hello()
        client.send("/sonocanvas/generate", "doomed", "image_prompt", "a", "audio_prompt", "b", "steps", 40)
        client.expect("/sonocanvas/queued")
        client.expect("/sonocanvas/progress")  # it is running now
        serve.kill()
        restarted = ServeProcess(config, "--port", str(serve.address[1]), cache=serve.cache)
        assert client.expect("/sonocanvas/error") == ["doomed", "job", RESTART_MESSAGE]  # at start-up
        client.send("/sonocanvas/hello", client.port)
        client.expect("/sonocanvas/ready")
        assert client.expect("/sonocanvas/error") == ["doomed", "job", RESTART_MESSAGE]  # and at the next hello
        told = len(client.seen)
        client.send("/sonocanvas/hello", client.port)
        client.expect("/sonocanvas/ready")
        client.send("/sonocanvas/status")
        assert client.expect("/sonocanvas/status") == ["", 0, "cpu"]
        # told once, not forever
        assert [r[0] for r in client.seen[told:]] == ["/sonocanvas/ready", "/sonocanvas/status"]
    finally:
        client.close()
        if restarted is not None:
            assert restarted.stop() == 0


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("taken, flags, field", [
    (socket.SOCK_DGRAM, (), "port"),
    (socket.SOCK_STREAM, (), "port"),
    (None, ("--host", "192.0.2.1"), "host"),  # TEST-NET-1: no address of this machine
], ids=["udp-port-taken", "tcp-port-taken", "foreign-host"])
def test_a_busy_port_or_a_foreign_host_is_an_error_naming_it_before_any_model_loads(tmp_path, taken, flags, field):
    with socket.socket(socket.AF_INET, taken or socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        if taken == socket.SOCK_STREAM:
            holder.listen()
        port = holder.getsockname()[1] if taken else 0
        # A model that does not exist: were it loaded before binding, its error would come instead.
        result = subprocess.run(
            [sys.executable, "-m", "sonocanvas.bridge.cli", "serve", "--config", str(write_config(tmp_path)),
             "--port", str(port), "--image-model-source", str(tmp_path / "no-such-model"), *flags],
            capture_output=True, text=True, timeout=2 * TIMEOUT,
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"sonocanvas serve: {field}: ") and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_serve_listens_on_ipv6(tmp_path, tiny_model_paths, sonocanvas_cache):
    if not _ipv6_loopback():
        pytest.skip("this machine cannot bind ::1 (no IPv6 loopback)")
    process = ServeProcess(write_config(tmp_path), "--host", "::1", cache=sonocanvas_cache)
    try:
        assert process.address[0] == "::1" and f"udp://[::1]:{process.address[1]} " in "".join(process.output)
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
            udp.settimeout(TIMEOUT)
            udp.sendto(message("/sonocanvas/status"), process.address)
            assert OscMessage(udp.recv(65536)).params == ["", 0, "cpu"]
        tcp = TcpClient(process.address)
        try:
            tcp.send("/sonocanvas/status")
            assert tcp.expect("/sonocanvas/status") == ["", 0, "cpu"]
        finally:
            tcp.close()
    finally:
        assert process.stop() == 0


def test_a_drop_folder_that_cannot_be_made_is_one_line_naming_it(tmp_path):
    """Issue 23, item 1: `serve --drop-dir` where no folder can be made (here a file stands in the way) was two
    chained tracebacks; it is one line on `drop_dir`, exit 2, before any model loads."""
    (tmp_path / "a-file").write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "sonocanvas.bridge.cli", "serve", "--config", str(write_config(tmp_path)), "--port",
         "0", "--drop-dir", str(tmp_path / "a-file" / "drop"), "--image-model-source", str(tmp_path / "no-such")],
        capture_output=True, text=True, timeout=2 * TIMEOUT,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"sonocanvas serve: drop_dir: cannot make {tmp_path / 'a-file' / 'drop'}: Not a directory\n"
