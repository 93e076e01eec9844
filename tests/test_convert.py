"""CTranslate2 -> openai-whisper conversion on the real tiny.en weights.
(That both engines then agree on a transcript is in test_engines.py.)"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from qualcode.convert import convert_model, ct2_to_openai, read_ct2_variables
from qualcode.errors import FormatError
from qualcode.whisper_models import resolve_model


@pytest.fixture(scope="module")
def tiny_dir():
    return resolve_model("tiny.en")


@pytest.fixture(scope="module")
def variables(tiny_dir):
    return read_ct2_variables(tiny_dir / "model.bin")


def test_reads_variables_and_resolves_the_projection_alias(variables):
    assert variables["decoder/embeddings/weight"].shape == (51864, 384)
    # the output projection is an alias of the token embedding, not a copy
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    assert int(variables["encoder/num_heads"]) == 6


def test_checkpoint_loads_strictly_into_openai_whisper(tiny_dir, variables):
    from whisper.model import ModelDimensions, Whisper

    checkpoint = ct2_to_openai(tiny_dir)
    dims = checkpoint["dims"]
    assert dims["n_vocab"] == 51864  # English-only
    assert dims["n_audio_layer"] == dims["n_text_layer"] == 4
    assert dims["n_mels"] == 80
    model = Whisper(ModelDimensions(**dims))
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    assert not model.is_multilingual
    # self-attention linear_0 stacks q, k, v: value is the last third
    stacked = variables["encoder/layer_0/self_attention/linear_0/weight"].astype(np.float32)
    value = checkpoint["model_state_dict"]["encoder.blocks.0.attn.value.weight"].numpy()
    assert np.array_equal(value, stacked[2 * 384 :])
    assert "encoder.blocks.0.attn.key.bias" not in checkpoint["model_state_dict"]
    assert checkpoint["alignment_heads"] and all(len(h) == 2 for h in checkpoint["alignment_heads"])


def test_convert_writes_atomically(tiny_dir, tmp_path):
    import torch

    out = convert_model(tiny_dir, tmp_path / "tiny.en.pt")
    assert out.is_file() and not (tmp_path / "tiny.en.pt.tmp").exists()
    loaded = torch.load(out, weights_only=True)
    assert loaded["dims"]["n_text_ctx"] == 448


def test_refuses_a_model_that_is_not_whisper(tmp_path):
    path = tmp_path / "model.bin"
    name = b"TransformerSpec"
    path.write_bytes(struct.pack("<I", 6) + struct.pack("<H", len(name) + 1) + name + b"\0")
    with pytest.raises(FormatError, match="WhisperSpec"):
        read_ct2_variables(path)


def test_refuses_a_truncated_model(tiny_dir, tmp_path):
    path = tmp_path / "model.bin"
    with open(tiny_dir / "model.bin", "rb") as f:
        path.write_bytes(f.read(200_000))
    with pytest.raises(FormatError, match="truncated"):
        read_ct2_variables(path)
