"""Previews while sampling (issue 22, part 1): the canvas as a small picture every few steps, over OSC from the
real server on the tiny-random models, files read back as they are announced, none left after a job."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sonocanvas.bridge.output import previews as preview_files
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.preview import LATENT_RGB, MAX_WIDTH, Previews, preview_picture


def quick(**overrides) -> GenerateSettings:
    values = dict(image_prompt="a castle", audio_prompt="bells", steps=6, image_start_step=2, seed=3)
    return GenerateSettings.resolved(**{**values, **overrides})


def test_a_preview_is_the_latent_rgb_approximation_with_the_canvas_aspect_at_most_256_wide():
    latents = torch.zeros(2, 4, 4, 16)
    latents[0, 0] = 1.0  # channel 0 alone: the first row of the matrix
    picture = preview_picture(latents)
    assert picture.mode == "RGB" and picture.size == (128, 32)  # the picture's own size (8 x the latents)
    expected = ((LATENT_RGB[0] + 1) / 2 * 255).round().to(torch.uint8).tolist()
    assert list(picture.getpixel((64, 16))) == expected
    wide = preview_picture(torch.zeros(1, 4, 4, 750))  # a 60 s canvas
    assert wide.size == (MAX_WIDTH, 1)  # 750 : 4 kept as near as whole pixels allow
    assert preview_picture(torch.zeros(1, 4, 32, 128)).size == (MAX_WIDTH, 64)


def test_previews_come_every_n_steps_and_leave_the_clip_bit_for_bit_as_it_was(auffusion_pipe):
    shown = []
    plain = auffusion_pipe(quick())
    watched = auffusion_pipe(quick(), previews=Previews(2, lambda step, total, picture: shown.append(
        (step, total, picture.size))))
    assert [(step, total) for step, total, _ in shown] == [(2, 6), (4, 6)]  # not at the last: the clip follows
    assert all(size == (128, 32) for _, _, size in shown)
    np.testing.assert_array_equal(watched[0].audio, plain[0].audio)


def test_the_imprint_method_previews_both_passes_as_one_run(auffusion_pipe):
    shown = []
    auffusion_pipe(quick(method="imprint", steps=3), previews=Previews(1, lambda step, total, _: shown.append(step)))
    assert shown == [1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def server(tiny_server):
    return tiny_server


@pytest.fixture
def announced(monkeypatch):
    """Every preview path as its message goes out, checked there and then: a whole PNG, beside at most the one
    it replaces."""
    seen = []
    real = preview_files.JobPreviews.show

    def show(self, step, picture, announce):
        def checked(path):
            with Image.open(path) as image:
                image.load()
                seen.append((step, image.size))
            names = {p.name for p in path.parent.iterdir()}
            assert path.name in names and len(names) <= preview_files.KEPT + 1  # and the KEPT before it
            announce(path)

        real(self, step, picture, checked)

    monkeypatch.setattr(preview_files.JobPreviews, "show", show)
    return seen


def test_a_told_preview_stays_until_the_one_after_the_next_is_told_and_none_once_closed(tmp_path):
    """A message told may wait in a socket's buffer while the next preview is written: the path it names is still
    there then, and goes only once the preview after that is told."""
    previews = preview_files.JobPreviews(tmp_path, "t", preview_files.own_folder(tmp_path))
    told: list[Path] = []
    on_disk: list[set[str]] = []
    each = threading.Semaphore(0)

    def announce(path: Path) -> None:
        told.append(path)
        on_disk.append({p.name for p in tmp_path.iterdir()})
        each.release()

    for step in range(1, 6):
        previews.show(step, Image.new("RGB", (8, 2)), announce)
        assert each.acquire(timeout=30)  # told (one at a time, so none is pushed out by the next)
    previews.close()
    assert [p.name for p in told] == [f"t-{step}.png" for step in range(1, 6)]
    assert on_disk == [{p.name for p in told[max(0, i - preview_files.KEPT):i + 1]} for i in range(5)]
    assert list(tmp_path.iterdir()) == []

def previews_folder(server):
    return server.services.drop.folder / preview_files.PREVIEW_FOLDER


def test_previews_arrive_in_order_each_whole_as_it_is_told_and_none_is_left(client, server, announced):
    client.send("/sonocanvas/generate", "watched", "image_prompt", "a", "audio_prompt", "b", "steps", 5,
                "preview", 2)
    replies = []
    while (reply := client.next())[0] != "/sonocanvas/done":
        replies.append(reply)
    previews = [args for address, args in replies if address == "/sonocanvas/preview"]
    assert [args[:3] for args in previews] == [["watched", 2, 5], ["watched", 4, 5]]
    assert announced == [(2, (128, 32)), (4, (128, 32))]
    folder = previews_folder(server)
    assert all(args[3].startswith(str(folder)) for args in previews)
    assert list(folder.iterdir()) == []  # gone once the job is done
    assert not [p for p in server.services.drop.folder.iterdir() if p.suffix == ".png" and "preview" in p.name]


def test_a_job_cancelled_at_a_preview_leaves_none_behind(client, server, announced):
    client.send("/sonocanvas/generate", "stopped", "image_prompt", "a", "audio_prompt", "b", "steps", 200,
                "preview", 1)
    assert client.expect("/sonocanvas/preview")[:2] == ["stopped", 1]
    client.send("/sonocanvas/cancel", "stopped")
    client.expect("/sonocanvas/cancelled")
    assert list(previews_folder(server).iterdir()) == []


def test_a_sweep_takes_only_old_previews_and_a_linked_folder_is_never_written_or_swept(tmp_path, caplog):
    """Whoever can write the drop folder can put a link where the previews go: nothing is written through it, no
    file behind it is swept, and a sweep of the real folder takes old previews only, never a file of another
    name or a link."""
    import logging
    import os
    import time

    drop, victim = tmp_path / "drop", tmp_path / "victim"
    drop.mkdir()
    victim.mkdir()
    old = time.time() - 2 * preview_files.PREVIEW_GRACE
    for name in ("important.txt", "0123456789ab-3.png"):
        (victim / name).write_text("keep")
        os.utime(victim / name, (old, old))
    (drop / preview_files.PREVIEW_FOLDER).symlink_to(victim)
    caplog.set_level(logging.WARNING, logger="sonocanvas.previews")
    linked = preview_files.PreviewFolder(drop)
    assert linked.job() is None and linked.job() is None
    assert sorted(p.name for p in victim.iterdir()) == ["0123456789ab-3.png", "important.txt"]
    assert len([r for r in caplog.records if "is a link or a file" in r.getMessage()]) == 1  # once
    (drop / preview_files.PREVIEW_FOLDER).unlink()  # moved away: the server makes the folder again
    assert isinstance(linked.job(), preview_files.JobPreviews)
    assert not (drop / preview_files.PREVIEW_FOLDER).is_symlink()

    folder = drop / preview_files.PREVIEW_FOLDER
    previews, told = linked.job(), []
    folder.rename(drop / "moved")
    folder.symlink_to(victim)  # swapped for a link while a job runs
    previews.show(1, Image.new("RGB", (8, 2)), told.append)
    previews.close()
    assert told == [] and sorted(p.name for p in victim.iterdir()) == ["0123456789ab-3.png", "important.txt"]
    folder.unlink()
    (drop / "moved").rename(folder)
    for name in ("0123456789ab-3.png", ".0123456789ab-4.png.x1y2z3.part", "notes.txt", "fedcba987654-1.png"):
        (folder / name).write_text("x")
        os.utime(folder / name, (old, old) if name != "fedcba987654-1.png" else None)
    (folder / "abcdefabcdef-2.png").symlink_to(victim / "important.txt")
    os.utime(folder / "abcdefabcdef-2.png", (old, old), follow_symlinks=False)
    preview_files.PreviewFolder(drop)  # a server opening the folder sweeps it
    assert sorted(p.name for p in folder.iterdir()) == ["abcdefabcdef-2.png", "fedcba987654-1.png", "notes.txt"]
    assert (victim / "important.txt").read_text() == "keep"


def test_only_windows_link_tags_count_as_links_so_a_onedrive_synced_folder_still_previews():
    """Reparse tags from Microsoft's winnt.h (IO_REPARSE_TAG_*): symlinks and junctions are name surrogates, links
    to another name; OneDrive's cloud-file tags mark an ordinary synced folder (such as ~/Music), which is the
    folder itself, and app-execution links are files."""
    assert preview_files.is_link_tag(0xA000000C)  # IO_REPARSE_TAG_SYMLINK
    assert preview_files.is_link_tag(0xA0000003)  # IO_REPARSE_TAG_MOUNT_POINT: a junction
    assert not preview_files.is_link_tag(0x9000001A)  # IO_REPARSE_TAG_CLOUD
    assert not preview_files.is_link_tag(0x9000601A)  # IO_REPARSE_TAG_CLOUD_6
    assert not preview_files.is_link_tag(0)  # no reparse point (and every folder elsewhere)


def test_a_server_whose_previews_folder_is_a_link_makes_the_clip_without_previews(client, server, tmp_path):
    import shutil

    folder = previews_folder(server)
    shutil.rmtree(folder, ignore_errors=True)
    folder.symlink_to(tmp_path)
    try:
        client.send("/sonocanvas/generate", "linked", "image_prompt", "a", "audio_prompt", "b", "steps", 3,
                    "preview", 1)
        replies = []
        while (reply := client.next())[0] != "/sonocanvas/done":
            replies.append(reply[0])
        assert "/sonocanvas/preview" not in replies and list(tmp_path.iterdir()) == []
    finally:
        folder.unlink()
    client.send("/sonocanvas/generate", "again", "image_prompt", "a", "audio_prompt", "b", "steps", 3, "preview", 1)
    assert client.expect("/sonocanvas/preview")[:2] == ["again", 1]  # the folder made again
    client.expect("/sonocanvas/done")

def test_no_preview_key_sends_none(client, server):
    client.send("/sonocanvas/generate", "plain", "image_prompt", "a", "audio_prompt", "b", "steps", 3)
    replies = []
    while (reply := client.next())[0] != "/sonocanvas/done":
        replies.append(reply[0])
    assert "/sonocanvas/preview" not in replies
