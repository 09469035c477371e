"""ModelPusher: TFX's Pusher with atomic, idempotent version directories.

The stock Pusher writes straight into `<base>/<unix time>/` (saved_model.pb last) and pushes
again when a cached run re-blesses the same model. This one copies into a hidden directory
beside the target and renames it into place (a version appears whole or not at all, as
the model-base-directory contract of docs/architecture.md says), never reuses a version number, and does not
push a SavedModel that is already served: it reports the existing version instead.
"""

from components.model_pusher.component import ModelPusher
from components.model_pusher.executor import ALLOW_LABEL_CHANGE, PUSH_RECORD, model_fingerprint

__all__ = ["ALLOW_LABEL_CHANGE", "PUSH_RECORD", "ModelPusher", "model_fingerprint"]
