"""Turn a CTranslate2 Whisper model into an openai-whisper checkpoint.

The reference implementation (openai-whisper) must run on real weights, but
the only Whisper weights that install offline here are CTranslate2 model
directories. Converting them back gives both engines *the same weights*, so a
transcript or speed comparison between them measures the engines, not two
different downloads.

``model.bin`` (binary version 6, spec ``WhisperSpec``): a header, then each
variable as name, rank, shape, dtype code, byte count and bytes, then an alias
table. Self-attention ``linear_0`` stacks q, k, v; cross-attention ``linear_0``
is q and ``linear_1`` stacks k, v; the key bias is zero and was dropped. Word
timestamps need ``alignment_heads`` from ``config.json``.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any, BinaryIO

from qualcode.errors import FormatError

_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}


def read_ct2_variables(path: str | Path) -> dict[str, Any]:
    """All variables of a CTranslate2 ``model.bin`` as numpy arrays (aliases
    resolved to the array they point at)."""
    import numpy as np

    path = Path(path)

    def unpack(f: BinaryIO, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        data = f.read(size)
        if len(data) != size:
            raise FormatError(path, "is truncated; re-install the model")
        return struct.unpack(fmt, data)[0]

    def string(f: BinaryIO) -> str:
        return f.read(unpack(f, "<H"))[:-1].decode("utf-8")

    out: dict[str, Any] = {}
    with open(path, "rb") as f:
        version = unpack(f, "<I")
        spec = string(f)
        if version != 6 or spec != "WhisperSpec":
            raise FormatError(
                path,
                f"is a {spec or '?'} model, binary version {version}; expected a "
                "version 6 WhisperSpec (a CTranslate2 Whisper model)",
            )
        unpack(f, "<I")  # spec revision
        for _ in range(unpack(f, "<I")):
            name = string(f)
            shape = [unpack(f, "<I") for _ in range(unpack(f, "<B"))]
            dtype = _DTYPES[unpack(f, "<B")]
            size = unpack(f, "<I")
            raw = f.read(size)
            if len(raw) != size:
                raise FormatError(path, "is truncated; re-install the model")
            if dtype == "bfloat16":  # numpy has no bfloat16: widen the bits
                wide = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                out[name] = wide.view(np.float32).reshape(shape)
            else:
                out[name] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(
                    shape
                )
        for _ in range(unpack(f, "<I")):
            alias, target = string(f), string(f)
            out[alias] = out[target]
    return out


def _count_layers(variables: dict[str, Any], prefix: str) -> int:
    # "encoder/layer_norm" also starts with "layer_": count numbered layers only
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    return 1 + max(int(m.group(1)) for k in variables if (m := pattern.match(k)))


def ct2_to_openai(model_dir: str | Path) -> dict[str, Any]:
    """The openai-whisper checkpoint (``dims``, ``model_state_dict``, plus
    ``alignment_heads`` as [layer, head] pairs) for a CTranslate2 Whisper
    model directory. Weights come out as float32 torch tensors."""
    import torch

    model_dir = Path(model_dir)
    v = read_ct2_variables(model_dir / "model.bin")
    if any(k.endswith("weight_scale") for k in v):
        raise FormatError(
            model_dir / "model.bin",
            "holds int8-quantized weights, which cannot be converted back; "
            "use a float16 or float32 CTranslate2 model",
        )
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    sd: dict[str, Any] = {}

    def put(name: str, array: Any) -> None:
        sd[name] = torch.from_numpy(array.astype("float32"))

    def linear(dst: str, src: str, *, bias: bool = True) -> None:
        put(f"{dst}.weight", v[f"{src}/weight"])
        if bias:
            put(f"{dst}.bias", v[f"{src}/bias"])

    def norm(dst: str, src: str) -> None:
        put(f"{dst}.weight", v[f"{src}/gamma"])
        put(f"{dst}.bias", v[f"{src}/beta"])

    def stacked(dst: str, src: str, names: tuple[str, ...]) -> None:
        n = len(names)
        weights = v[f"{src}/weight"].reshape(n, -1, v[f"{src}/weight"].shape[1])
        biases = v[f"{src}/bias"].reshape(n, -1)
        for i, name in enumerate(names):
            put(f"{dst}.{name}.weight", weights[i])
            if name != "key":  # openai-whisper's key projection has no bias
                put(f"{dst}.{name}.bias", biases[i])

    def block(dst: str, src: str, cross: bool) -> None:
        stacked(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        if cross:
            linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            stacked(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))
            linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
            norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    n_enc, n_dec = _count_layers(v, "encoder"), _count_layers(v, "decoder")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    put("encoder.positional_embedding", v["encoder/position_encodings/encodings"])
    for i in range(n_enc):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")
    put("decoder.token_embedding.weight", v["decoder/embeddings/weight"])
    put("decoder.positional_embedding", v["decoder/position_encodings/encodings"])
    for i in range(n_dec):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")

    enc_pos, dec_emb = v["encoder/position_encodings/encodings"], v["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(enc_pos.shape[0]),
        "n_audio_state": int(enc_pos.shape[1]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_enc,
        "n_vocab": int(dec_emb.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(dec_emb.shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_dec,
    }
    heads = [[int(a), int(b)] for a, b in config.get("alignment_heads", [])]
    return {"dims": dims, "model_state_dict": sd, "alignment_heads": heads}


def convert_model(model_dir: str | Path, out: str | Path) -> Path:
    """Write the openai-whisper checkpoint of ``model_dir`` to ``out``
    atomically (a killed conversion leaves no half file to load later)."""
    import torch

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    torch.save(ct2_to_openai(model_dir), tmp)
    tmp.replace(out)
    return out
