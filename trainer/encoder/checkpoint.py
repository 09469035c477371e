"""A local pretrained BERT checkpoint in the HuggingFace layout: checked, described and read.

A checkpoint directory holds `config.json` (a `BertModel`/`Bert*` config), `vocab.txt` (the
WordPiece vocabulary, one token per line, id = line number) and `model.safetensors` (the
weights). Nothing is downloaded: the user names the directory. The weights are read with the
`safetensors` package's numpy API (no PyTorch); a `pytorch_model.bin`-only checkpoint is refused
with a message that says so.

Everything that can be wrong with a directory is found by `inspect_checkpoint` when the config
is loaded (files, architecture, vocabulary, the tensors and their shapes, from the safetensors
header only), so a bad path ends the run before any TFX work with one message naming it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np

from core.errors import UserError

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.txt"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")
SUPPORTED_ACTIVATIONS = ("gelu", "relu", "gelu_new", "gelu_pytorch_tanh")
# Checkpoints saved from a task model (BertForSequenceClassification, ...) prefix the encoder's names.
_PREFIXES = ("", "bert.")


class CheckpointError(UserError, ValueError):
    """A checkpoint directory lexflow cannot use (a ValueError too, so config validation reports it)."""


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The architecture fields of a HuggingFace BERT `config.json` that the Keras encoder needs."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BertConfig:
        """The known fields of `data`, type-checked: TypeError naming the first bad one."""
        values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        for name, value in values.items():
            kind = cls.__annotations__[name]
            if kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise TypeError(f"{name} must be a positive integer, got {value!r}")
            if kind == "float" and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise TypeError(f"{name} must be a non-negative number, got {value!r}")
            if kind == "str" and not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {value!r}")
        if "intermediate_size" not in values:  # BERT's default: 4 x hidden
            values["intermediate_size"] = 4 * values["hidden_size"]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A checked checkpoint directory: its files, architecture and special token ids."""

    path: Path
    config: BertConfig
    vocab_size: int  # lines of vocab.txt (<= config.vocab_size)
    special_ids: dict[str, int]  # [PAD], [UNK], [CLS], [SEP] -> id
    lower_case: bool  # tokenizer_config.json's do_lower_case (uncased checkpoints), default True
    prefix: str  # "" or "bert." before the tensor names in the weights file

    @property
    def vocab_file(self) -> Path:
        return self.path / VOCAB_FILE

    @property
    def weights_file(self) -> Path:
        return self.path / WEIGHTS_FILE


def expected_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every encoder tensor lexflow loads, by its HuggingFace name (without a prefix), with its shape.

    Linear layers are stored [out, in] (PyTorch's layout); the Keras kernels are their transposes.
    """
    h, i = config.hidden_size, config.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (config.vocab_size, h),
        "embeddings.position_embeddings.weight": (config.max_position_embeddings, h),
        "embeddings.token_type_embeddings.weight": (config.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(config.num_hidden_layers):
        layer = f"encoder.layer.{n}."
        for name in ("query", "key", "value"):
            shapes[f"{layer}attention.self.{name}.weight"] = (h, h)
            shapes[f"{layer}attention.self.{name}.bias"] = (h,)
        shapes[f"{layer}attention.output.dense.weight"] = (h, h)
        shapes[f"{layer}attention.output.dense.bias"] = (h,)
        shapes[f"{layer}attention.output.LayerNorm.weight"] = (h,)
        shapes[f"{layer}attention.output.LayerNorm.bias"] = (h,)
        shapes[f"{layer}intermediate.dense.weight"] = (i, h)
        shapes[f"{layer}intermediate.dense.bias"] = (i,)
        shapes[f"{layer}output.dense.weight"] = (h, i)
        shapes[f"{layer}output.dense.bias"] = (h,)
        shapes[f"{layer}output.LayerNorm.weight"] = (h,)
        shapes[f"{layer}output.LayerNorm.bias"] = (h,)
    return shapes


def _legacy_name(name: str) -> str:
    """Old TF-converted checkpoints call LayerNorm's weight/bias gamma/beta."""
    if ".LayerNorm." in name:
        return name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    return name


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"encoder checkpoint {path}: unreadable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"encoder checkpoint {path}: expected a JSON object")
    return data


def _architecture(path: Path, data: dict[str, Any]) -> BertConfig:
    model_type = data.get("model_type")
    architectures = [str(a) for a in data.get("architectures") or []]
    if model_type != "bert" and not any(a.startswith("Bert") for a in architectures):
        found = model_type or ", ".join(architectures) or "none given"
        raise CheckpointError(
            f"encoder checkpoint {path}: unsupported architecture ({found}); lexflow reads BERT checkpoints "
            "(model_type 'bert': BERT, MiniLM, ...)"
        )
    missing = [k for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads") if k not in data]
    if missing:
        raise CheckpointError(f"encoder checkpoint {path}: no {', '.join(missing)} in the config")
    try:
        config = BertConfig.from_dict(data)
    except TypeError as exc:
        raise CheckpointError(f"encoder checkpoint {path}: {exc}") from None
    if config.hidden_act not in SUPPORTED_ACTIVATIONS:
        raise CheckpointError(
            f"encoder checkpoint {path}: unsupported hidden_act {config.hidden_act!r} "
            f"(supported: {', '.join(SUPPORTED_ACTIVATIONS)})"
        )
    if data.get("position_embedding_type", "absolute") != "absolute":
        raise CheckpointError(
            f"encoder checkpoint {path}: unsupported position_embedding_type {data['position_embedding_type']!r} "
            "(only 'absolute')"
        )
    if config.hidden_size % config.num_attention_heads:
        raise CheckpointError(
            f"encoder checkpoint {path}: hidden_size {config.hidden_size} is not a multiple of "
            f"num_attention_heads {config.num_attention_heads}"
        )
    return config


def _vocabulary(path: Path, config: BertConfig) -> tuple[int, dict[str, int]]:
    try:
        tokens = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"encoder checkpoint {path}: unreadable vocabulary ({exc})") from None
    if tokens and tokens[-1] == "":
        tokens.pop()
    ids = {token.strip(): i for i, token in reversed(list(enumerate(tokens)))}
    missing = [t for t in SPECIAL_TOKENS if t not in ids]
    if missing:
        raise CheckpointError(f"encoder checkpoint {path}: no {', '.join(missing)} in the WordPiece vocabulary")
    if len(tokens) > config.vocab_size:
        raise CheckpointError(
            f"encoder checkpoint {path}: {len(tokens)} tokens but the model embeds only "
            f"vocab_size={config.vocab_size} (config.json)"
        )
    return len(tokens), {t: ids[t] for t in SPECIAL_TOKENS}


def _weights_prefix(path: Path, config: BertConfig) -> str:
    """Check the tensors named in the safetensors header (no tensor is read); return their name prefix."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as handle:
            shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}  # noqa: SIM118
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"encoder checkpoint {path}: not a readable safetensors file ({exc})") from None
    expected = expected_shapes(config)
    prefix = next((p for p in _PREFIXES if f"{p}embeddings.word_embeddings.weight" in shapes), None)
    if prefix is None:
        raise CheckpointError(
            f"encoder checkpoint {path}: no BERT embeddings (embeddings.word_embeddings.weight) in the weights"
        )
    for name, shape in expected.items():
        stored = shapes.get(prefix + name, shapes.get(prefix + _legacy_name(name)))
        if stored is None:
            raise CheckpointError(f"encoder checkpoint {path}: tensor {prefix + name} is missing")
        if stored != shape:
            raise CheckpointError(
                f"encoder checkpoint {path}: tensor {prefix + name} has shape {list(stored)}, "
                f"config.json implies {list(shape)}"
            )
    return prefix


def inspect_checkpoint(path: Path) -> Checkpoint:
    """Check a checkpoint directory (files, architecture, vocabulary, tensor names and shapes)."""
    if not path.exists():
        raise CheckpointError(f"encoder checkpoint {path} does not exist")
    if not path.is_dir():
        raise CheckpointError(f"encoder checkpoint {path} is not a directory (give the folder with config.json)")
    missing = [name for name in (CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE) if not (path / name).is_file()]
    if missing:
        hint = " (PyTorch .bin weights are not read: save the model as safetensors)" if WEIGHTS_FILE in missing else ""
        raise CheckpointError(f"encoder checkpoint {path}: no {', '.join(missing)}{hint}")
    config = _architecture(path / CONFIG_FILE, _read_json(path / CONFIG_FILE))
    vocab_size, special_ids = _vocabulary(path / VOCAB_FILE, config)
    prefix = _weights_prefix(path / WEIGHTS_FILE, config)
    lower_case = True
    if (path / TOKENIZER_CONFIG_FILE).is_file():
        lower_case = bool(_read_json(path / TOKENIZER_CONFIG_FILE).get("do_lower_case", True))
    return Checkpoint(path, config, vocab_size, special_ids, lower_case, prefix)


def read_weights(checkpoint: Checkpoint) -> dict[str, np.ndarray]:
    """The encoder's tensors by HuggingFace name (prefix removed, gamma/beta renamed), as float32 arrays."""
    from safetensors.numpy import load_file

    stored = load_file(str(checkpoint.weights_file))
    weights = {}
    for name in expected_shapes(checkpoint.config):
        key = checkpoint.prefix + name
        value = stored[key] if key in stored else stored[checkpoint.prefix + _legacy_name(name)]
        weights[name] = np.asarray(value, dtype=np.float32)
    return weights


def fingerprint(path: Path) -> str:
    """SHA-256 over the files that define the model (cache key: a changed checkpoint re-runs Transform and Trainer)."""
    files = [path / CONFIG_FILE, path / VOCAB_FILE, path / WEIGHTS_FILE]
    stats = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return _fingerprint(str(path), stats)


@functools.lru_cache(maxsize=8)
def _fingerprint(path: str, stats: Optional[tuple[tuple[int, int], ...]]) -> str:
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE):
        digest.update(name.encode())
        with open(Path(path) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
