"""`sonocanvas encode` / `decode` through the real command line: pictures in, WAV files read back."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from pedalboard.io import AudioFile
from PIL import Image, ImageDraw
from sonocanvas.bridge.cli import main
from sonocanvas.engine.art import load_art
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.spectrogram import AuffusionFormat, RiffusionFormat, mel_bank, picture_from_png

pytestmark = pytest.mark.usefixtures("single_thread_torch")


def drawing(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """A colour picture with large shapes: a lit ellipse and a bar over a dim background."""
    image = Image.new("RGB", size, (20, 30, 60))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w * 0.1, h * 0.15, w * 0.9, h * 0.85), fill=(250, 210, 60))
    draw.rectangle((w * 0.3, h * 0.45, w * 0.7, h * 0.55), fill=(60, 20, 20))
    return image


def grey_at(image: Image.Image, width: int, height: int) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image.convert("L").resize((width, height), Image.Resampling.BILINEAR),
                                       dtype=np.float32) / 255)


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.numpy().ravel(), b.numpy().ravel())[0, 1])


def read_wav(path) -> tuple[np.ndarray, int]:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)[0], f.samplerate


def test_encode_then_decode_auffusion(tmp_path, capsys):
    drawing().save(tmp_path / "art.jpg", quality=95)
    assert main(["encode", str(tmp_path / "art.jpg"), "-o", str(tmp_path / "art.wav"), "--iterations", "32"]) == 0
    audio, rate = read_wav(tmp_path / "art.wav")
    assert rate == 48000
    assert len(audio) == pytest.approx(10.24 * 48000, abs=48)
    assert np.abs(audio).max() == pytest.approx(10 ** (-1 / 20), abs=1e-3)  # -1 dBFS, never clipped

    assert main(["decode", str(tmp_path / "art.wav"), "-o", str(tmp_path / "back.png")]) == 0
    assert "auffusion" in capsys.readouterr().out
    fmt, picture = picture_from_png(tmp_path / "back.png")
    assert fmt == AuffusionFormat(inverted=False)  # art: bright is loud
    assert picture.shape == (256, 1024)
    assert pearson(picture, grey_at(drawing(), 1024, 256)) >= 0.9


def test_encode_then_decode_riffusion_bright_is_loud(tmp_path):
    drawing((300, 300)).save(tmp_path / "art.png")
    assert main(["encode", str(tmp_path / "art.png"), "-o", str(tmp_path / "art.wav"), "--format", "riffusion",
                 "--seconds", "1.28", "--sample-rate", "44100", "--iterations", "32"]) == 0
    audio, rate = read_wav(tmp_path / "art.wav")
    assert rate == 44100 and len(audio) == pytest.approx(1.28 * 44100, abs=441)

    assert main(["decode", str(tmp_path / "art.wav"), "-o", str(tmp_path / "back.png"), "--format", "riffusion"]) == 0
    fmt, picture = picture_from_png(tmp_path / "back.png")
    assert fmt == RiffusionFormat(inverted=False)
    assert picture.shape == (512, 129)
    assert pearson(picture, grey_at(drawing((300, 300)), 129, 512)) >= 0.9


@pytest.mark.parametrize("fmt", [AuffusionFormat(), RiffusionFormat()], ids=lambda f: f.name)
def test_a_bright_line_is_a_tone_at_its_height(tmp_path, fmt):
    """Bright is loud and low frequencies are at the bottom, whatever the format's own convention."""
    row_from_bottom = fmt.n_mels // 4
    picture = Image.new("L", (50, fmt.n_mels), 0)
    ImageDraw.Draw(picture).line((0, fmt.n_mels - 1 - row_from_bottom, 49, fmt.n_mels - 1 - row_from_bottom),
                                 fill=255)
    picture.save(tmp_path / "line.png")
    assert main(["encode", str(tmp_path / "line.png"), "-o", str(tmp_path / "line.wav"), "--format", fmt.name,
                 "--seconds", "1", "--iterations", "8"]) == 0
    audio, rate = read_wav(tmp_path / "line.wav")
    spectrum = np.abs(np.fft.rfft(audio))
    heard = np.argmax(spectrum) * rate / len(audio)
    band = mel_bank(fmt)[row_from_bottom].numpy()
    lit = np.flatnonzero(band) * fmt.sample_rate / fmt.n_fft
    assert lit.min() - 10 <= heard <= lit.max() + 10


def test_transparent_is_silent(tmp_path):
    picture = Image.new("RGBA", (100, 64), (255, 255, 255, 255))
    picture.paste((255, 255, 255, 0), (0, 0, 50, 64))  # left half: white but fully transparent
    picture.save(tmp_path / "half.png")
    assert main(["encode", str(tmp_path / "half.png"), "-o", str(tmp_path / "half.wav"), "--seconds", "2",
                 "--iterations", "8", "--sample-rate", "16000"]) == 0
    audio, _ = read_wav(tmp_path / "half.wav")
    left, right = audio[2000:14000], audio[18000:30000]
    assert np.sqrt(np.mean(left**2)) < 1e-3 * np.sqrt(np.mean(right**2))


def test_phone_photos_are_upright_and_16_bit_greys_keep_their_range(tmp_path):
    upright = Image.new("L", (64, 32), 0)
    upright.paste(255, (0, 0, 32, 32))  # left half bright: loud first, then quiet
    upright.save(tmp_path / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as phones write
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    _, expected = load_art(tmp_path / "upright.png", seconds=1)
    _, phone = load_art(tmp_path / "phone.jpg", seconds=1)
    assert pearson(phone, expected) > 0.95

    ramp = np.repeat(np.linspace(0, 65535, 256).astype(np.uint16)[:, None], 64, axis=1)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    _, deep = load_art(tmp_path / "deep.png", seconds=1)
    assert deep.min() < 0.01 and deep.max() > 0.99 and 0.45 < deep.mean() < 0.55  # not saturated to white


def test_a_decoded_picture_encodes_back_in_its_own_format(tmp_path, capsys):
    t = np.arange(3 * 44100) / 44100
    tone = (0.3 * np.sin(2 * np.pi * 880 * t)).astype(np.float32)
    with AudioFile(str(tmp_path / "tone.flac"), "w", samplerate=44100, num_channels=1) as f:
        f.write(tone[None])
    assert main(["decode", str(tmp_path / "tone.flac"), "-o", str(tmp_path / "tone.png"), "--format", "riffusion"]) == 0
    capsys.readouterr()
    assert main(["encode", str(tmp_path / "tone.png"), "-o", str(tmp_path / "again.wav"), "--iterations", "4",
                 "--sample-rate", "44100"]) == 0
    assert "(riffusion)" in capsys.readouterr().out  # no --format: the picture's own
    audio, _ = read_wav(tmp_path / "again.wav")
    assert len(audio) == pytest.approx(len(tone), abs=441)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) * 44100 / len(audio) == pytest.approx(880, abs=5)


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    drawing((40, 20)).save(tmp_path / "art.png")
    (tmp_path / "clip.wav").write_bytes(b"finished clip")
    args = ["encode", str(tmp_path / "art.png"), "-o", str(tmp_path / "clip.wav"), "--seconds", "0.5",
            "--iterations", "2"]
    assert main(args) == 2
    clip = tmp_path / "clip.wav"
    error = capsys.readouterr().err
    assert error == f"sonocanvas encode: error: output: '{clip}' exists; pass --overwrite to replace it\n"
    assert (tmp_path / "clip.wav").read_bytes() == b"finished clip"
    assert main([*args, "--overwrite"]) == 0
    assert read_wav(tmp_path / "clip.wav")[1] == 48000


def _write(path, samples: np.ndarray, rate: int = 16000, bit_depth: int = 16):
    with AudioFile(str(path), "w", samplerate=rate, num_channels=1, bit_depth=bit_depth) as f:
        f.write(samples.reshape(1, -1).astype(np.float32))
    return path


def _nan_audio() -> np.ndarray:
    samples = np.full(16000, 0.1, dtype=np.float32)
    samples[500] = np.nan
    return samples


BAD = {
    "missing picture": (["encode", "{tmp}/nope.png"], "picture: no such file"),
    "not a picture": (["encode", "{tmp}/text.png"], "picture: '{tmp}/text.png' is not a picture"),
    "unknown encode format": (["encode", "{tmp}/art.png", "--format", "midjourney"],
                              "format: unknown 'midjourney'; choose auffusion or riffusion"),
    "zero seconds": (["encode", "{tmp}/art.png", "--seconds", "0"], "seconds: 0.0 is out of range"),
    "missing audio": (["decode", "{tmp}/nope.wav"], "audio: no such file"),
    "not audio": (["decode", "{tmp}/art.png"], "audio: '{tmp}/art.png' is not an audio file"),
    "zero-length audio": (["decode", "{tmp}/empty.wav"], "audio: '{tmp}/empty.wav' is empty"),
    "silent audio": (["decode", "{tmp}/silent.wav"], "audio: '{tmp}/silent.wav' is silent"),
    "NaN samples": (["decode", "{tmp}/nan.wav"], "audio: '{tmp}/nan.wav' holds NaN"),
    "unknown decode format": (["decode", "{tmp}/tone.wav", "--format", "x"], "format: unknown 'x'"),
    "missing output folder": (["decode", "{tmp}/tone.wav", "-o", "{tmp}/no/such/out.png"],
                              "output: folder '{tmp}/no/such' does not exist"),
    "an output that is a folder": (["encode", "{tmp}/art.png", "-o", "{tmp}", "--overwrite"],
                                   "output: '{tmp}' is a folder; name the file to write in it"),
    # /proc takes no new file, even from root: the error names the user's path, never atomic_write's temporary
    "an output the system refuses": (["encode", "{tmp}/art.png", "-o", "/proc/a.wav"],
                                     "output: cannot write /proc/a.wav: "),
    "an encode extension not written": (["encode", "{tmp}/art.png", "-o", "{tmp}/out.xyz"], "output: cannot write XYZ"),
    "a decode extension not PNG": (["decode", "{tmp}/tone.wav", "-o", "{tmp}/out.jpg"],
                                   "output: decode writes PNG pictures"),
    "32-bit FLAC": (["encode", "{tmp}/art.png", "-o", "{tmp}/out.flac", "--bit-depth", "32"],
                    "bit_depth: FLAC holds at most 24 bits"),
    "a rate out of the table's range": (["encode", "{tmp}/art.png", "--sample-rate", "400000"],
                                        "sample_rate: must be between 8000 and 192000"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_named_and_writes_nothing(tmp_path, capsys, case):
    drawing((40, 20)).save(tmp_path / "art.png")
    (tmp_path / "text.png").write_text("not a picture at all")
    _write(tmp_path / "empty.wav", np.zeros(0))
    _write(tmp_path / "silent.wav", np.zeros(16000))
    _write(tmp_path / "nan.wav", _nan_audio(), bit_depth=32)
    _write(tmp_path / "tone.wav", 0.5 * np.sin(np.arange(16000) * 0.1))
    before = sorted(p.name for p in tmp_path.iterdir())
    argv, message = BAD[case]
    argv = [a.format(tmp=tmp_path) for a in argv]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / ("out.wav" if argv[0] == "encode" else "out.png"))]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sonocanvas {argv[0]}: error: {message.format(tmp=tmp_path)}")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, no temporary left behind


def test_the_real_command_exits_non_zero_and_says_why(tmp_path):
    """The same through a separate process, as a shell or a DAW script would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "sonocanvas.bridge.cli", "encode", str(tmp_path / "nope.png"), "-o",
         str(tmp_path / "out.wav")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == f"sonocanvas encode: error: picture: no such file '{tmp_path / 'nope.png'}'\n"
    assert list(tmp_path.iterdir()) == []


def test_a_long_sound_round_trips_in_chunks_with_progress_and_no_seams(tmp_path, capsys):
    """24 s of steady tones: decode and encode both run in chunks (five of Griffin-Lim's 512 columns) and show
    progress; the sound made back is steady at every seam (short-time level within 0.5 dB of its median)."""
    t = np.arange(24 * 16000) / 16000
    _write(tmp_path / "long.wav", 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1250 * t))
    assert main(["decode", str(tmp_path / "long.wav"), "-o", str(tmp_path / "long.png")]) == 0
    assert main(["encode", str(tmp_path / "long.png"), "-o", str(tmp_path / "back.flac"),
                 "--sample-rate", "16000"]) == 0
    err = capsys.readouterr().err
    assert "decoding [" in err and "encoding [" in err and "5/5" in err
    with AudioFile(str(tmp_path / "back.flac")) as f:
        back, rate = f.read(f.frames)[0], f.samplerate
    assert rate == 16000 and abs(len(back) - len(t)) <= 160 and abs(np.abs(back).max() - 10 ** (-1 / 20)) < 1e-3
    rms = np.sqrt(np.mean(back[8000:-8000].reshape(-1, 400) ** 2, axis=1))
    assert np.abs(20 * np.log10(rms / np.median(rms))).max() < 0.5


def _riffusion_picture(path, columns: int, hop_ms: float, rate: int = 1000):
    """A picture whose Riffusion EXIF tags (riffusion-hobby's SpectrogramParams.ExifTags) say what anyone may
    write: here a hop of `hop_ms` at `rate`, so a few columns claim hours of sound."""
    exif = Image.Exif()
    for tag, value in {11000: rate, 11005: 0, 11010: hop_ms, 11020: hop_ms, 11030: hop_ms, 11040: 16,
                       11050: 0, 11060: rate / 2, 11070: 0.25}.items():
        exif[tag] = value
    Image.new("L", (columns, 16), 128).save(path, exif=exif)


def test_a_pictures_own_metadata_never_lifts_the_length_bound(tmp_path):
    """Issue 24, finding 3: 48 columns with a hop of 65.536 s at 1 kHz claim 51 minutes. The length is checked
    against the caller's bound (the server's minute, the command line's hour) before any work."""
    path = tmp_path / "hours.png"
    _riffusion_picture(path, 48, 65536)
    with pytest.raises(FieldError, match=r"^picture: the sound would last 3080 s .*; at most 60 s$"):
        load_art(path, max_seconds=60)
    _riffusion_picture(path, 320, 65536)
    with pytest.raises(FieldError, match=r"at most 3600 s$"):
        load_art(path)
    _riffusion_picture(path, 48, 1000)  # 47 s: allowed, in its own format
    fmt, picture = load_art(path, max_seconds=60)
    assert (fmt.hop_length, picture.shape[-1]) == (1000, 48)


def test_a_picture_too_large_to_unpack_says_so_in_words(tmp_path):
    """Issue 23, item 3: a 20000x20000 picture is "too large", not Pillow's "decompression bomb DOS attack".
    The file is a real 1x1 PNG whose header (IHDR, with its CRC) claims 20000x20000: Pillow refuses it at open."""
    import io
    import struct
    import zlib

    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4: ihdr + 12] = struct.pack(">II", 20000, 20000)
    data[ihdr + 17: ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr: ihdr + 17])))
    path = tmp_path / "huge.png"
    path.write_bytes(bytes(data))
    with pytest.raises(FieldError, match=r"^picture: '.*huge.png' is too large a picture \(the limit is about 179 "
                                         r"megapixels\)$"):
        load_art(path)
