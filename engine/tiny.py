"""The tiny-random model set: Stable Diffusion, Auffusion, Riffusion, CLIP and CLAP folders with random weights.

They are saved in the real on-disk layouts and loaded through the same loader as a user's models, so tests and
plumbing checks exercise the real code paths in well under a second per generation. Their output is noise: every
file made from them says "tiny-random".
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .vocoder import HifiGan, VocoderConfig, to_legacy_weight_norm

NAME = "tiny-random"
_COMPLETE = "tiny-random.json"
_VERSION = 3  # 2: the CLIP and CLAP scorers; 3: configs without the stamps below
# What diffusers and transformers write into every config they save: the version of the library that saved it.
# The set leaves them out, so its files (and the content hash a clip record names it by) are the same whichever
# release built it; a real model's files come from its hub repository and are never rewritten.
_LIBRARY_STAMPS = ("_diffusers_version", "transformers_version")

# Latent sizes (height, width): pictures are 8x larger; the Auffusion one is 32 mel rows by 128 frames.
AUFFUSION_LATENT = (4, 16)
RIFFUSION_LATENT = (8, 8)
IMAGE_LATENT = (8, 8)

SD_SCHEDULER = dict(  # Stable Diffusion 1.5's scheduler/scheduler_config.json
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, clip_sample=False,
)

TINY_VOCODER = VocoderConfig(  # Auffusion's hop of 160 samples at 16 kHz, with 32 mel rows and few channels
    num_mels=AUFFUSION_LATENT[0] * 8, upsample_rates=(5, 4, 2, 2, 2), upsample_kernel_sizes=(11, 8, 4, 4, 4),
    upsample_initial_channel=32, resblock="1", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3, 5),),
    sampling_rate=16000, hop_size=160,
)


@dataclass(frozen=True)
class TinyModels:
    image: Path
    auffusion: Path
    riffusion: Path
    clip: Path
    clap: Path

    @property
    def audio(self) -> dict[str, Path]:
        """By audio-model kind (`catalog.AUDIO_MODELS`, every one of them), its tiny folder."""
        return {"auffusion": self.auffusion, "riffusion": self.riffusion}


def scorer_or_tiny(named: str, default: str, tiny: Path) -> str:
    """With the tiny set, the scorer to load: one the user named stays (an explicit choice always wins), the
    default hub id becomes the tiny one, and "" (no scorer) stays none."""
    return str(tiny) if named == default else named


def default_root() -> Path:
    cache = os.environ.get("SONOCANVAS_CACHE")
    return (Path(cache) if cache else Path.home() / ".cache" / "sonocanvas") / NAME


def tiny_models(root: Path | str | None = None) -> TinyModels:
    """Build the set once into `root` (deterministically, in a temporary folder renamed into place) and reuse it."""
    root = Path(root) if root is not None else default_root()
    models = TinyModels(root / "image", root / "auffusion", root / "riffusion", root / "clip", root / "clap")
    if _built(root):
        return models
    root.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        _build(building)
        (building / _COMPLETE).write_text(json.dumps({"name": NAME, "version": _VERSION}))
        if root.is_dir() and not _built(root):  # an older version of the set: move it aside, then remove it
            old = Path(tempfile.mkdtemp(prefix=f".{root.name}-old-", dir=root.parent))
            try:
                os.replace(root, old / root.name)
            except FileNotFoundError:  # another process moved it first
                pass
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(building, root)  # atomic; replaces root only if it is an empty folder
        except OSError:
            if not _built(root):  # not another process's finished build: a real failure
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return models


def _built(root: Path) -> bool:
    """Whether `root` holds a complete set of this version."""
    try:
        return json.loads((root / _COMPLETE).read_text()).get("version") == _VERSION
    except (OSError, ValueError):
        return False


def _build(folder: Path) -> None:
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from .models import quiet_progress_bars

    quiet_progress_bars()
    with torch.random.fork_rng(devices=[]):
        tokenizer = byte_tokenizer(folder / ".tokenizer")
        torch.manual_seed(0)
        vae = AutoencoderKL(  # 4 blocks: 8x downsampling and 4 latent channels, as Stable Diffusion's
            in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
            norm_num_groups=4, sample_size=64,
        )

        def text_encoder(seed: int) -> CLIPTextModel:
            torch.manual_seed(seed)
            return CLIPTextModel(CLIPTextConfig(
                vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=77, projection_dim=32,
                bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            ))

        def unet(seed: int, latent: tuple[int, int]) -> UNet2DConditionModel:
            torch.manual_seed(seed)
            return UNet2DConditionModel(
                sample_size=latent, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                cross_attention_dim=32, attention_head_dim=8, norm_num_groups=8,
            )

        shared_text = text_encoder(1)  # SD and Riffusion share a text encoder; Auffusion has its own
        for name, encoder, model in (("image", shared_text, unet(2, IMAGE_LATENT)),
                                     ("auffusion", text_encoder(3), unet(4, AUFFUSION_LATENT)),
                                     ("riffusion", shared_text, unet(5, RIFFUSION_LATENT))):
            StableDiffusionPipeline(
                vae=vae, text_encoder=encoder, tokenizer=tokenizer, unet=model,
                scheduler=PNDMScheduler.from_config(SD_SCHEDULER),
                safety_checker=None, feature_extractor=None, requires_safety_checker=False,
            ).save_pretrained(folder / name)  # type: ignore[attr-defined]  # mypy reads diffusers' no-torch dummy
        torch.manual_seed(6)
        _save_vocoder(HifiGan(TINY_VOCODER), folder / "auffusion" / "vocoder")
        torch.manual_seed(7)
        _save_clip(tokenizer, folder / "clip")
        torch.manual_seed(8)
        _save_clap(folder / ".roberta", folder / "clap")
    shutil.rmtree(folder / ".tokenizer")
    shutil.rmtree(folder / ".roberta")
    for config in folder.rglob("*.json"):
        _unstamp(config)


def _unstamp(config: Path) -> None:
    """Rewrite a saved config without the library version stamps (`_LIBRARY_STAMPS`), keys sorted."""
    values = json.loads(config.read_text(encoding="utf-8"))
    if isinstance(values, dict) and any(stamp in values for stamp in _LIBRARY_STAMPS):
        kept = {key: value for key, value in values.items() if key not in _LIBRARY_STAMPS}
        config.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _save_clip(tokenizer, folder: Path) -> None:
    """CLIP as `openai/clip-vit-base-patch16` is laid out (config, weights, processor, tokenizer), tiny."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    config = CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4),
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(folder)
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)


def _save_clap(scratch: Path, folder: Path) -> None:
    """CLAP as `laion/clap-htsat-unfused` is laid out: HTSAT audio tower (no fusion, so its processor truncates; the
    scorer never lets it), RoBERTa text tower with a byte-level tokenizer, all tiny."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    tokenizer = roberta_byte_tokenizer(scratch)
    config = ClapConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=80, projection_dim=16),
        audio_config=dict(hidden_size=64, patch_embeds_hidden_size=32, depths=[1, 1], num_attention_heads=[2, 2],
                          window_size=8, spec_size=256, num_mel_bins=64, enable_fusion=False, projection_dim=16),
        projection_dim=16,
    )
    ClapModel(config).save_pretrained(folder)
    processor = ClapProcessor(feature_extractor=ClapFeatureExtractor(truncation="rand_trunc"), tokenizer=tokenizer)
    processor.save_pretrained(folder)


def roberta_byte_tokenizer(folder: Path):
    """A RoBERTa tokenizer (CLAP's) over the 256 byte symbols alone (no merges): real code, tiny vocabulary."""
    from transformers import RobertaTokenizer

    vocab = {token: i for i, token in enumerate(["<s>", "<pad>", "</s>", "<unk>", *_byte_symbols(), "<mask>"])}
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return RobertaTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins for bytes that CLIP's and GPT-2's byte-level tokenizers use."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    return [chr(b) for b in printable] + [chr(256 + n) for n in range(256 - len(printable))]


def _save_vocoder(vocoder: HifiGan, folder: Path) -> None:
    """Save as Auffusion does: HiFi-GAN's config.json and a checkpoint in the old weight_norm naming."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(vocoder.config.to_json(), indent=2))
    torch.save({"generator": to_legacy_weight_norm(vocoder.state_dict())}, folder / "vocoder.pt")


def byte_tokenizer(folder: Path):
    """A CLIP tokenizer over the 256 byte symbols alone (no merges): real code, tiny vocabulary."""
    from transformers import CLIPTokenizer

    symbols = _byte_symbols()
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
