"""Calling a loaded SavedModel signature without TensorFlow's per-call Python (TF 2.16).

`signature(text=tensor)` binds the keyword arguments to the function type, casts and checks the
input, looks up the handle of each of the model's ~17 captured resources (vocabulary tables,
weights) and only then runs the graph function: ~200 us of Python per call on this machine, as
much as the TF-IDF model's kernels for a batch of 16. All of that is the same on every call, so
`direct_call` runs the graph function with the input and the captured handles directly (what
`ConcreteFunction._call_flat` ends in when no gradient tape watches). It relies on TensorFlow
internals, so it is only used when it gives exactly the signature's outputs on a probe batch;
otherwise (another TF version, a distributed or unusual signature) the signature is called as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional

log = logging.getLogger(__name__)
Outputs = dict[str, Any]  # output name -> EagerTensor


def direct_call(signature: Any, probe: Any, expected: Outputs) -> Optional[Callable[[Any], Outputs]]:
    """A faster equivalent of `lambda text: signature(text=text)`, or None. `expected` is
    `signature(text=probe)`; `probe` a string tensor of a few texts."""
    try:
        function = signature._inference_function
        captured = list(signature.captured_inputs)
        if len(signature.structured_input_signature[1]) != 1:  # one input (`text`), by keyword
            return None

        def call(text: Any) -> Outputs:
            return function.call_preflattened([text, *captured])

        got = call(probe)
        same = isinstance(got, dict) and set(got) == set(expected)
        if same:
            same = all((got[k].numpy() == expected[k].numpy()).all() for k in expected)
    except Exception as exc:  # any difference in TF's internals means: not here
        log.info("calling the signature directly is not possible here (%s); calling it as it is", exc)
        return None
    return call if same else None
