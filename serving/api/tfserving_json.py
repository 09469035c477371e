"""TF Serving's JSON request format for the model's one input, `text` (a DT_STRING).

Row format: `{"instances": [v, ...]}`, each `v` a value or `{"text": value}`; columnar format:
`{"inputs": value | [value, ...] | {"text": value | [value, ...]}}`. A value is a JSON string or,
as TF Serving accepts for DT_STRING, `{"b64": "<standard base64>"}` (an object with exactly that
one key; padding optional, but correct when present). The model takes text, so decoded bytes
must be UTF-8.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from serving.errors import ApiError

SIGNATURE = "serving_default"


def texts_from_request(payload: Any) -> tuple[list[Any], bool]:
    """(texts, row_format)."""
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object with 'instances' or 'inputs'")
    signature = payload.get("signature_name", SIGNATURE)
    if signature != SIGNATURE:
        raise ApiError(400, f"signature '{signature}' is not served over REST; use '{SIGNATURE}'")
    if ("instances" in payload) == ("inputs" in payload):
        raise ApiError(400, "request must have exactly one of 'instances' (row format) or 'inputs' (columnar)")
    if "instances" in payload:
        return _row_texts(payload["instances"]), True
    return _columnar_texts(payload["inputs"]), False


def is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def value_of(value: Any, where: str) -> Any:
    """A string as is; a b64 object decoded to text; anything else unchanged (the service refuses it)."""
    if not is_b64(value):
        return value
    encoded = value["b64"]
    if not isinstance(encoded, str):
        raise ApiError(400, f"{where}: 'b64' must be a string of base64")
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{where}: Unable to base64 decode") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, f"{where}: the base64 value is not UTF-8 text") from None


def _row_texts(instances: Any) -> list[Any]:
    if not isinstance(instances, list):
        raise ApiError(400, "'instances' must be a list")
    texts = []
    for i, instance in enumerate(instances):
        where = f"instances[{i}]"
        if isinstance(instance, dict) and not is_b64(instance):
            if set(instance) != {"text"}:
                raise ApiError(400, f"{where}: expected exactly the input 'text', got {sorted(instance)}")
            texts.append(value_of(instance["text"], f"{where}.text"))
        else:
            texts.append(value_of(instance, where))
    return texts


def _columnar_texts(inputs: Any) -> list[Any]:
    where = "inputs"
    if isinstance(inputs, dict) and not is_b64(inputs):
        if set(inputs) != {"text"}:
            raise ApiError(400, f"inputs: expected exactly the input 'text', got {sorted(inputs)}")
        inputs, where = inputs["text"], "inputs.text"
    if isinstance(inputs, str) or is_b64(inputs):
        return [value_of(inputs, where)]
    if not isinstance(inputs, list):
        raise ApiError(400, "'inputs' must be a list of strings or {'text': [...]}")
    return [value_of(value, f"{where}[{i}]") for i, value in enumerate(inputs)]
