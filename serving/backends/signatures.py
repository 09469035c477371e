"""A SavedModel's signatures in the two forms TF Serving's metadata APIs use.

REST (`GET .../metadata`) writes the SignatureDefMap as protobuf JSON with the proto field names
and every default value (`"defaults": {}`, `"unknown_rank": false`, int64 as strings); gRPC
(`GetModelMetadata`) packs the SignatureDefMap message. Backends hand signatures around in the
JSON form (no TensorFlow types in the backend interface); the gRPC server turns them back into
the message. TF Serving returns every signature of the loaded MetaGraphDef, including
`__saved_model_init_op`, and so does the gateway (read from `saved_model.pb`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.model_dir import SAVED_MODEL


def _to_json(message: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, including_default_value_fields=True
    )  # protobuf 3.20: the pinned version's name for "always print fields without presence"


def saved_model_signatures(model_dir: Path) -> dict[str, Any]:
    """`{"signature_def": {name: SignatureDef JSON}}` of the SavedModel's (first) MetaGraphDef."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((Path(model_dir) / SAVED_MODEL).read_bytes())
    signatures = saved_model.meta_graphs[0].signature_def
    return {"signature_def": {name: _to_json(signatures[name]) for name in sorted(signatures)}}


def signature_map_message(signature_defs: dict[str, Any]) -> Any:
    """The gRPC SignatureDefMap message of `saved_model_signatures`' JSON form."""
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_metadata_pb2

    return json_format.ParseDict(signature_defs, get_model_metadata_pb2.SignatureDefMap())


def signature_map_json(message: Any) -> dict[str, Any]:
    """The JSON form of a SignatureDefMap message (what a TF Serving gRPC backend receives)."""
    return _to_json(message)
