"""Sine-tone WAV generation and Goertzel tone detection (pure Python, no numpy)."""

from __future__ import annotations

import math
import sys
import wave
from array import array
from collections.abc import Sequence
from pathlib import Path

DEFAULT_RATE = 8000
DEFAULT_THRESHOLD = 0.3
# 50 ms blocks: a 20 Hz bin is narrow enough to separate test tones yet wide enough
# that codec jitter, packet-loss concealment and loop seams do not smear the tone away.
DEFAULT_BLOCK_MS = 50


def generate_sine(
    freq: float, duration_s: float = 1.0, rate: int = DEFAULT_RATE, amplitude: float = 0.5
) -> array[int]:
    """Return signed 16-bit samples of a sine wave at ``freq`` Hz."""
    if not 0.0 <= amplitude <= 1.0:
        raise ValueError(f"amplitude must be within [0, 1], got {amplitude}")
    if freq <= 0 or freq >= rate / 2:
        raise ValueError(f"frequency {freq} Hz is outside (0, {rate / 2}) for rate {rate}")
    count = round(duration_s * rate)
    peak = amplitude * 32767.0
    step = 2.0 * math.pi * freq / rate
    return array("h", (round(peak * math.sin(step * i)) for i in range(count)))


def write_wav(path: str | Path, samples: array[int], rate: int = DEFAULT_RATE) -> Path:
    """Write mono 16-bit samples to a WAV file and return its path."""
    out = Path(path)
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()  # WAV is little-endian on every platform
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data.tobytes())
    return out


def write_sine_wav(
    path: str | Path,
    freq: float,
    duration_s: float = 1.0,
    rate: int = DEFAULT_RATE,
    amplitude: float = 0.5,
) -> Path:
    """Write a mono 16-bit sine WAV (8 kHz by default) and return its path."""
    return write_wav(path, generate_sine(freq, duration_s, rate, amplitude), rate)


def read_wav(path: str | Path) -> tuple[array[int], int]:
    """Read a 16-bit WAV as (first-channel samples, sample rate)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is supported")
        channels = wav.getnchannels()
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = array("h")
    samples.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = samples[::channels]
    return samples, rate


def goertzel_power(samples: Sequence[float], rate: int, freq: float) -> float:
    """Return the squared magnitude of ``freq`` in ``samples`` (Goertzel algorithm)."""
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2 = s1
        s1 = s0
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def relative_power(
    samples: Sequence[float],
    rate: int,
    freq: float,
    block_ms: int = DEFAULT_BLOCK_MS,
) -> float:
    """Return the share (0..1) of the signal's energy that lies at ``freq``.

    A clean sine scores about 1.0, silence or unrelated sound about 0.0.
    """
    block = max(1, rate * block_ms // 1000)
    tone = 0.0
    energy = 0.0
    for start in range(0, len(samples) - block + 1, block):
        chunk = samples[start : start + block]
        chunk_energy = float(sum(x * x for x in chunk))
        if chunk_energy == 0.0:
            continue
        # For a pure sine over N samples, |X|^2 = N/2 * energy, hence the 2/N scaling.
        tone += goertzel_power(chunk, rate, freq) * 2.0 / block
        energy += chunk_energy
    if energy == 0.0:
        return 0.0
    return min(1.0, tone / energy)


def tone_level(path: str | Path, freq: float, block_ms: int = DEFAULT_BLOCK_MS) -> float:
    """Return the relative power (0..1) of ``freq`` in a WAV file."""
    samples, rate = read_wav(path)
    return relative_power(samples, rate, freq, block_ms)


def has_tone(
    path: str | Path,
    freq: float,
    threshold: float = DEFAULT_THRESHOLD,
    block_ms: int = DEFAULT_BLOCK_MS,
) -> bool:
    """Return whether ``freq`` carries at least ``threshold`` of a WAV file's energy."""
    return tone_level(path, freq, block_ms) >= threshold


def rms(samples: Sequence[float]) -> float:
    """Return the root-mean-square level of ``samples`` (0 for an empty signal)."""
    if not samples:
        return 0.0
    return math.sqrt(sum(x * x for x in samples) / len(samples))


def has_sound(path: str | Path, min_rms: float = 200.0) -> bool:
    """Whether a recording holds anything louder than near-silence (RMS of 16-bit samples)."""
    samples, _ = read_wav(path)
    return rms(samples) >= min_rms
