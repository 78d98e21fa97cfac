"""Where the models run and in which precision: CUDA in fp16, Apple MPS, else CPU in fp32; overridable."""
from __future__ import annotations

import torch

from .errors import FieldError

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def choose_device(device: str | torch.device | None = None) -> torch.device:
    """The named device, or the best one present. A device that is not present is a user error."""
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as error:
        raise FieldError("device", f"unknown device {device!r}; choose cpu, cuda or mps") from error
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }.get(chosen.type, False)
    if not available:
        raise FieldError("device", f"{chosen.type} is not available on this machine")
    return chosen


def choose_dtype(device: torch.device, dtype: str | torch.dtype | None = None) -> torch.dtype:
    """fp16 on CUDA and MPS (half the memory, tensor cores), fp32 on CPU (fp16 is slow and lossy there)."""
    if dtype is None:
        return torch.float16 if device.type in ("cuda", "mps") else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise FieldError("dtype", f"unknown {dtype!r}; choose {', '.join(DTYPES)}")
    return DTYPES[dtype]
