"""The two spectrogram formats, audio ↔ picture, exactly as their models were trained.

A format is a frozen dataclass of parameters. Audio becomes a mel magnitude spectrogram (reflect
padding, a non-centred STFT, the magnitude, a mel filter bank from `transformers`), and the mel
spectrogram becomes picture values in [0, 1] the way the model expects them; the way back is a
least-squares inverse mel step and fast Griffin-Lim. Pictures have row 0 at the HIGHEST
frequency, as displayed. The parameters travel in a PNG text chunk so a picture knows its format.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image, PngImagePlugin, UnidentifiedImageError
from transformers.audio_utils import mel_filter_bank

from .errors import FieldError
from .griffinlim import ShortTimeFourier, griffin_lim_chunked
from .input_file import FileSource, is_present, readable

PNG_KEY = "sonocanvas.spectrogram"
_CPU = torch.device("cpu")
"""PNG text chunk holding `{"format": name, "params": {...}}`."""


class SpectrogramFormat:
    """Analysis and synthesis shared by the formats; each subclass is a frozen dataclass with these fields.

    sample_rate, n_fft, win_length, hop_length: the STFT (a periodic Hann window of win_length,
    centred in n_fft). pad: reflect padding on each side before the non-centred STFT. n_mels,
    f_min, f_max, mel_scale, mel_norm: the filter bank. frames: the model's picture width.
    inverted: loud is dark in the model's pictures. Subclasses say how mel magnitudes map to values.
    """

    name: ClassVar[str]
    chunk_frames: ClassVar[int] = 512
    # Declared (the dataclass decorator sets it on each subclass) so a type checker lets any format through
    # dataclasses.replace and dataclasses.asdict.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    sample_rate: int
    n_fft: int
    win_length: int
    hop_length: int
    pad: int
    n_mels: int
    f_min: float
    f_max: float
    mel_scale: str
    mel_norm: str | None
    frames: int
    inverted: bool
    magnitude_floor: float

    def __post_init__(self) -> None:
        """Refuse parameters no STFT can use (they may come from a PNG's metadata, so from anyone)."""
        problems = [
            (not 1000 <= self.sample_rate <= 384000, f"sample_rate {self.sample_rate} is not 1000 to 384000 Hz"),
            (not 16 <= self.n_fft <= 65536, f"n_fft {self.n_fft} is not 16 to 65536"),
            (not 0 < self.hop_length <= self.win_length <= self.n_fft,
             f"need 0 < hop_length ({self.hop_length}) <= win_length ({self.win_length}) <= n_fft"),
            (not 0 <= self.pad <= self.n_fft // 2, f"pad {self.pad} is not 0 to n_fft / 2"),
            (not 1 <= self.n_mels <= 2048, f"n_mels {self.n_mels} is not 1 to 2048"),
            (not 0 <= self.f_min < self.f_max <= self.sample_rate / 2,
             f"need 0 <= f_min ({self.f_min}) < f_max ({self.f_max}) <= sample_rate / 2"),
            (self.mel_scale not in ("slaney", "htk"), f"mel_scale {self.mel_scale!r} is not slaney or htk"),
            (self.mel_norm not in ("slaney", None), f"mel_norm {self.mel_norm!r} is not slaney or None"),
            (not 1 <= self.frames <= 1_000_000, f"frames {self.frames} is not 1 to 1000000"),
        ]
        for bad, reason in problems:
            if bad:
                raise FieldError("format", f"{self.name} {reason}")

    # audio → picture -------------------------------------------------------------------------
    def picture_from_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """Mono `(samples,)` or `(batch, samples)` at `sample_rate` → `(..., n_mels, frames)` in [0, 1]."""
        return self.picture_from_mel(self.mel_from_audio(audio))

    def mel_from_audio(self, audio: torch.Tensor, on_chunk: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """Mel magnitudes `(..., n_mels, frames)` of the STFT magnitude, before any picture scaling; the STFT runs
        `chunk_frames` at a time (`on_chunk(done, total)` says how far), so only the mel grows with the length."""
        if audio.shape[-1] <= self.pad:
            raise FieldError("audio", f"{audio.shape[-1]} samples is too short for the {self.name} format "
                             f"(it needs more than {self.pad} at {self.sample_rate} Hz)")
        audio = self.prepare(audio.to(torch.float32))
        bank = _sparse_mel_bank(self, audio.device)
        frames = self.frames_for(audio.shape[-1])
        # torch.stft's framing of the padded signal: the window sits (n_fft - win) // 2 into each frame
        stft = ShortTimeFourier(self.n_fft, self.hop_length, self.win_length, bank.shape[-1], frames, audio.device,
                                audio.dtype, lead=self.pad - (self.n_fft - self.win_length) // 2)
        padded = stft.pad(audio)
        mels = []
        for start in range(0, frames, self.chunk_frames):  # bounded memory for long audio
            count = min(self.chunk_frames, frames - start)
            chunk = padded[..., start * self.hop_length : (start + count - 1) * self.hop_length + self.win_length]
            parts = torch.view_as_real(stft.transform(chunk))  # (..., count, bins, re/im)
            real, imag = parts[..., 0], parts[..., 1]
            magnitude = real.square().addcmul_(imag, imag).add_(self.magnitude_floor).sqrt_()
            mels.append(_mel(bank, magnitude))
            if on_chunk is not None:
                on_chunk(len(mels), -(-frames // self.chunk_frames))
        return torch.cat(mels, dim=-1)

    def prepare(self, audio: torch.Tensor) -> torch.Tensor:
        """What the model's own pipeline does to audio before analysis (nothing, unless overridden)."""
        return audio

    def picture_from_mel(self, mel: torch.Tensor) -> torch.Tensor:
        values = self.values_from_mel(mel)
        return (1 - values if self.inverted else values).flip(-2)

    # picture → audio -------------------------------------------------------------------------
    def audio_from_picture(
        self, picture: torch.Tensor, n_iter: int = 32, generator: torch.Generator | None = None,
        on_chunk: Callable[[int, int], None] | None = None,
    ) -> torch.Tensor:
        """`(..., n_mels, frames)` in [0, 1] → audio `(..., samples)` at `sample_rate`, on the picture's device.

        Not normalised: Auffusion's level is that of its 0.95-peak analysis (Griffin-Lim's peaks may pass
        1), Riffusion's is arbitrary (see `max_value`); normalise before writing. For a sound too long to hold,
        `audio_pieces` gives the same samples a piece at a time.
        """
        return torch.cat(list(self.audio_pieces(picture, n_iter, generator, on_chunk)), dim=-1)

    def audio_pieces(
        self, picture: torch.Tensor, n_iter: int = 32, generator: torch.Generator | None = None,
        on_chunk: Callable[[int, int], None] | None = None,
    ) -> Iterator[torch.Tensor]:
        """`audio_from_picture`'s samples as consecutive pieces: the linear magnitude the mel spectrogram most likely
        came from, then fast Griffin-Lim, `chunk_frames` columns at a time (`on_chunk(done, total)` says how far),
        so memory does not grow with the picture's width."""
        mel_of = lambda start, stop: self.linear_from_mel(self.mel_from_picture(picture[..., start:stop]))  # noqa: E731
        # Griffin-Lim's frames are centred; ours start `pad` samples early, which moves the centres.
        shift = picture.new_zeros((*picture.shape[:-2], self.n_fft // 2 - self.pad))
        yield shift
        yield from griffin_lim_chunked(mel_of, picture.shape[-1], self.n_fft, self.hop_length, self.win_length,
                                       n_iter=n_iter, generator=generator, chunk_frames=self.chunk_frames,
                                       on_chunk=on_chunk)
        yield shift

    def mel_from_picture(self, picture: torch.Tensor) -> torch.Tensor:
        values = picture.to(torch.float32).flip(-2)
        return self.mel_from_values(1 - values if self.inverted else values)

    def linear_from_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """Least-squares inverse of the mel bank, clamped non-negative (as torchaudio's InverseMelScale):
        `(..., bins, frames)` up to the last bin the bank uses; the bins above are zero."""
        return (_inverse_mel_bank(self, mel.device) @ mel).clamp_(min=0)

    # pictures as files -----------------------------------------------------------------------
    def frames_for(self, samples: int) -> int:
        """Picture width of `samples` of audio."""
        return (samples + 2 * self.pad - self.n_fft) // self.hop_length + 1

    def png(self, picture: torch.Tensor) -> Image.Image:
        """A grey 8-bit picture carrying this format's parameters; save it as PNG (`img.save(f, format="PNG")`).

        The parameters are in `img.info` and in `img.encoderinfo`, which Pillow writes as a PNG text chunk.
        """
        values = picture.detach().to("cpu", torch.float32).reshape(picture.shape[-2:])
        image = Image.fromarray((values.clamp(0, 1) * 255).round().to(torch.uint8).numpy())
        text = json.dumps({"format": self.name, "params": dataclasses.asdict(self)})
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, text)
        image.info[PNG_KEY] = text
        image.encoderinfo = {"pnginfo": info}
        return image

    # the model's picture convention ------------------------------------------------------------
    def values_from_mel(self, mel: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mel_from_values(self, values: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True)
class AuffusionFormat(SpectrogramFormat):
    """Auffusion (the audio model of "Images that Sound"): 16 kHz, 256 Slaney mel bands, log-magnitude.

    As Auffusion's `mel_spectrogram`: audio peak-normalised to 0.95, reflect-padded by
    (n_fft - hop) / 2, non-centred STFT, sqrt(|X|² + 1e-9), natural log clamped to
    [ln 1e-5, ln 200] and mapped linearly to [0, 1]. 1024 frames = 10.24 s.
    """

    name: ClassVar[str] = "auffusion"
    sample_rate: int = 16000
    n_fft: int = 2048
    win_length: int = 1024
    hop_length: int = 160
    pad: int = (2048 - 160) // 2
    n_mels: int = 256
    f_min: float = 0.0
    f_max: float = 8000.0
    mel_scale: str = "slaney"
    mel_norm: str | None = "slaney"
    frames: int = 1024
    inverted: bool = False
    magnitude_floor: float = 1e-9
    peak: float = 0.95
    log_min: float = math.log(1e-5)
    log_max: float = math.log(200.0)

    def prepare(self, audio: torch.Tensor) -> torch.Tensor:
        peak = audio.abs().amax(dim=-1, keepdim=True).clamp_min(torch.finfo(audio.dtype).tiny)
        return audio * (self.peak / peak)

    def values_from_mel(self, mel: torch.Tensor) -> torch.Tensor:
        log_mel = mel.clamp(min=math.exp(self.log_min)).log().clamp(max=self.log_max)
        return (log_mel - self.log_min) / (self.log_max - self.log_min)

    def mel_from_values(self, values: torch.Tensor) -> torch.Tensor:
        return (values * (self.log_max - self.log_min) + self.log_min).exp()

    def log_mel_from_picture(self, picture: torch.Tensor) -> torch.Tensor:
        """Natural-log mel `(..., 256, frames)`, low frequencies first: what Auffusion's HiFi-GAN vocoder takes."""
        return self.mel_from_picture(picture).log()


@dataclass(frozen=True)
class RiffusionFormat(SpectrogramFormat):
    """Riffusion: 44.1 kHz, 512 HTK mel bands (0–10 kHz, no norm) on the magnitude of a centred STFT.

    As riffusion-hobby's converters: hop 10 ms, window 100 ms, n_fft 400 ms; the mel magnitudes
    divided by their maximum, raised to 0.25 and inverted (loud is dark). 512 frames = 5.12 s.
    Back from a picture, the maximum is lost; `max_value` is Riffusion's 30e6 for int16 audio,
    so expect to normalise the result.
    """

    name: ClassVar[str] = "riffusion"
    sample_rate: int = 44100
    n_fft: int = 17640
    win_length: int = 4410
    hop_length: int = 441
    pad: int = 17640 // 2
    n_mels: int = 512
    f_min: float = 0.0
    f_max: float = 10000.0
    mel_scale: str = "htk"
    mel_norm: str | None = None
    frames: int = 512
    inverted: bool = True
    magnitude_floor: float = 0.0
    power: float = 0.25
    max_value: float = 30e6 / 32768

    def values_from_mel(self, mel: torch.Tensor) -> torch.Tensor:
        peak = mel.amax(dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(mel.dtype).tiny)
        return (mel / peak).pow(self.power)

    def mel_from_values(self, values: torch.Tensor) -> torch.Tensor:
        return values.clamp(0, 1).pow(1 / self.power) * self.max_value


FORMATS: dict[str, type[SpectrogramFormat]] = {"auffusion": AuffusionFormat, "riffusion": RiffusionFormat}


def get_format(name: str) -> SpectrogramFormat:
    """The format called `name`, with its model's parameters."""
    if name not in FORMATS:
        raise FieldError("format", f"unknown '{name}'; choose {' or '.join(FORMATS)}")
    return FORMATS[name]()


def picture_from_png(source: FileSource | Image.Image) -> tuple[SpectrogramFormat, torch.Tensor]:
    """The format and picture `(n_mels, width)` in [0, 1] of a spectrogram PNG.

    Reads sonocanvas's text chunk, or the EXIF tags riffusion-hobby writes. Raises ValueError
    starting with "picture:" if the file is missing, not a picture, or carries neither.
    """
    image = source if isinstance(source, Image.Image) else open_picture(source)
    fmt = _format_from_metadata(image)
    if fmt is None:
        raise FieldError("picture", f"{_describe(source)} carries no spectrogram parameters "
                         f"(no '{PNG_KEY}' text chunk or Riffusion EXIF tags)")
    grey = np.asarray(image.getchannel(0) if image.mode in ("RGB", "RGBA") else image.convert("L"))
    if grey.shape[0] != fmt.n_mels:
        raise FieldError("picture", f"{_describe(source)} is {grey.shape[0]} pixels high, "
                         f"but the {fmt.name} format has {fmt.n_mels} mel bands")
    return fmt, torch.from_numpy(grey.astype(np.float32) / 255)


def open_picture(source: FileSource, field: str = "picture", largest: int | None = None) -> Image.Image:
    """A picture file (a path, or its bytes already read), fully loaded; FieldError(field) if missing or
    unreadable (`field`: the caller's name for it), or with a side over `largest` pixels, which is refused from
    its header, before its pixels are decoded."""
    path = str(source)
    if not is_present(source):
        raise FieldError(field, f"no such file '{path}'")
    try:
        with Image.open(readable(source)) as image:
            if largest is not None and max(image.size) > largest:
                raise FieldError(field, f"'{path}' is {image.width} x {image.height} pixels; give a picture at "
                                        f"most {largest} pixels a side")
            image.load()
            return image
    except Image.DecompressionBombError:  # Pillow's own bound on what a picture may unpack to
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise FieldError(field, f"'{path}' is too large a picture (the limit is about {limit:.0f} megapixels)") \
            from None
    except (UnidentifiedImageError, OSError) as e:
        raise FieldError(field, f"'{path}' is not a picture Pillow can read ({e})") from e


# Riffusion's EXIF tags (riffusion-hobby SpectrogramParams.ExifTags).
_RIFFUSION_EXIF = {"sample_rate": 11000, "stereo": 11005, "step_size_ms": 11010, "window_duration_ms": 11020,
                   "padded_duration_ms": 11030, "num_frequencies": 11040, "min_frequency": 11050,
                   "max_frequency": 11060, "power_for_image": 11070}


def _format_from_metadata(image: Image.Image) -> SpectrogramFormat | None:
    if PNG_KEY in image.info:
        try:
            record = json.loads(image.info[PNG_KEY])
            return FORMATS[record["format"]](**record["params"])
        except (ValueError, KeyError, TypeError) as e:
            raise FieldError("picture", f"its '{PNG_KEY}' metadata is malformed ({e})") from e
    exif = image.getexif()
    if _RIFFUSION_EXIF["sample_rate"] not in exif:
        return None
    # any value, or None for a tag that is absent: int() and float() refuse what is not a number (TypeError)
    tags: dict[str, Any] = {field: exif.get(tag) for field, tag in _RIFFUSION_EXIF.items()}
    if tags["stereo"]:
        raise FieldError("picture", "stereo Riffusion pictures are not supported")
    try:
        rate = int(tags["sample_rate"])
        samples = lambda ms: int(float(ms) / 1000 * rate)  # noqa: E731 (riffusion-hobby's rounding)
        return RiffusionFormat(sample_rate=rate, hop_length=samples(tags["step_size_ms"]),
                               win_length=samples(tags["window_duration_ms"]),
                               n_fft=samples(tags["padded_duration_ms"]),
                               pad=samples(tags["padded_duration_ms"]) // 2, n_mels=int(tags["num_frequencies"]),
                               f_min=float(tags["min_frequency"]), f_max=float(tags["max_frequency"]),
                               power=float(tags["power_for_image"]))
    except (ValueError, TypeError) as e:
        raise FieldError("picture", f"its Riffusion EXIF tags are malformed ({e})") from e


def _describe(source: object) -> str:
    return "the image" if isinstance(source, Image.Image) else f"'{source}'"


@functools.lru_cache(maxsize=8)
def mel_bank(fmt: SpectrogramFormat, device: torch.device = _CPU) -> torch.Tensor:
    """The format's filter bank `(n_mels, bins)` (transformers' `mel_filter_bank`), float32.

    Cut after the last frequency bin any band uses: the bins above would only multiply zeros.
    """
    bank = mel_filter_bank(num_frequency_bins=fmt.n_fft // 2 + 1, num_mel_filters=fmt.n_mels,
                           min_frequency=fmt.f_min, max_frequency=fmt.f_max, sampling_rate=fmt.sample_rate,
                           norm=fmt.mel_norm, mel_scale=fmt.mel_scale).T
    used = int(np.flatnonzero(bank.any(axis=0))[-1]) + 1
    return torch.from_numpy(np.ascontiguousarray(bank[:, :used], dtype=np.float32)).to(device)


@functools.lru_cache(maxsize=8)
def _inverse_mel_bank(fmt: SpectrogramFormat, device: torch.device) -> torch.Tensor:
    """Moore-Penrose pseudo-inverse `(bins, n_mels)`: the least-squares (minimum-norm) linear spectrum.

    Computed as Bᵀ(BBᵀ)⁺, which is the same matrix: BBᵀ is only n_mels square, so this is far
    cheaper than an SVD of the whole bank, and still right if a band catches no bin at all.
    """
    bank = mel_bank(fmt, torch.device("cpu")).double()
    return (bank.T @ torch.linalg.pinv(bank @ bank.T, hermitian=True)).float().to(device)


@functools.lru_cache(maxsize=8)
def _sparse_mel_bank(fmt: SpectrogramFormat, device: torch.device) -> torch.Tensor:
    """The bank in compressed sparse rows where the device multiplies them: each bin feeds at most two
    bands, so this skips nearly all of a dense product's work (about a tenth of the time on CPU)."""
    bank = mel_bank(fmt, device)
    if device.type not in ("cpu", "cuda"):
        return bank
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used here is long-standing
        warnings.simplefilter("ignore", UserWarning)
        return bank.to_sparse_csr()


def _mel(bank: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """`(..., frames, bins)` magnitudes → `(..., n_mels, frames)` in one product (a sparse bank takes
    plain matrices only, so every frame of the batch becomes a column)."""
    columns = magnitude.reshape(-1, magnitude.shape[-1]).T.contiguous()
    return (bank @ columns).reshape(bank.shape[0], *magnitude.shape[:-1]).movedim(0, -2)
