"""A tiny random BERT checkpoint in the HuggingFace layout, written by the tests (no download).

2 blocks, hidden 32, 4 heads; the vocabulary covers every ASCII letter and digit as a word start
and as a `##` continuation, so any English text tokenises into real ids (mostly one piece per
character) plus a few whole words, as a real WordPiece vocabulary would.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any, Optional

import numpy as np

WORDS = ["agreement", "governed", "laws", "party", "shall", "terminate", "confidential", "the", "of", "this"]
CONFIG: dict[str, Any] = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}


def vocabulary() -> list[str]:
    chars = string.ascii_lowercase + string.digits
    return (
        ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + list(string.punctuation)
        + list(chars)
        + [f"##{c}" for c in chars]
        + WORDS
    )


def write_tiny_bert(path: Path, seed: int = 0, prefix: str = "", config: Optional[dict[str, Any]] = None) -> Path:
    """Write config.json, vocab.txt and model.safetensors (random weights, LayerNorms at identity) to `path`."""
    from safetensors.numpy import save_file

    from trainer.encoder.checkpoint import BertConfig, expected_shapes

    vocab = vocabulary()
    data = {**CONFIG, "vocab_size": len(vocab), **(config or {})}
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(data), encoding="utf-8")
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, shape in expected_shapes(BertConfig.from_dict(data)).items():
        if name.endswith("LayerNorm.weight"):
            value = np.ones(shape, np.float32)
        elif name.endswith("LayerNorm.bias"):
            value = np.zeros(shape, np.float32)
        else:
            value = rng.normal(0.0, 0.2, shape).astype(np.float32)
        tensors[prefix + name] = value
    tensors[prefix + "pooler.dense.weight"] = np.zeros((data["hidden_size"], data["hidden_size"]), np.float32)
    save_file(tensors, str(path / "model.safetensors"), metadata={"format": "pt"})
    return path
