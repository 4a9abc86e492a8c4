"""Audio the tests make themselves: a short WAV tone (stdlib wave), and an Ogg page header."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

RATE = 16000  # what whisper resamples to anyway


def tone_wav(*, seconds: float = 0.5, frequency: float = 440.0, volume: float = 0.3) -> bytes:
    """A mono 16-bit WAV of a sine tone; a different frequency gives different bytes."""
    frames = int(RATE * seconds)
    amplitude = int(32767 * volume)
    samples = b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * frequency * n / RATE)))
        for n in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples)
    return buffer.getvalue()


def write_tone_wav(path: Path, **tone: float) -> bytes:
    """Writes a tone WAV to `path` (folders made) and returns its bytes."""
    content = tone_wav(**tone)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return content


def ogg_like(payload: bytes = b"opus voice note") -> bytes:
    """Bytes that start as an Ogg page does ("OggS", version 0): what WhatsApp voice notes are.
    Enough for a fake that checks the container's signature, not a playable file."""
    return b"OggS\x00\x02" + bytes(20) + payload
