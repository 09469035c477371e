"""Select Keras 2 (tf_keras) before TensorFlow is imported.

TF 2.16 defaults to Keras 3, which tf.Transform 1.16 and TFX 1.16 cannot use. The variable
must be set before the first `import tensorflow` in the process, so every entry point imports
this module first.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
# C++ INFO/WARNING and the harmless CUDA-plugin registration errors of CPU machines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings

# Google client libraries warn at import about Python 3.10 and their own versions; the
# pinned stack is deliberate (TFX 1.16 needs 3.10), so these are noise to a lexflow user.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")
warnings.filterwarnings("ignore", category=FutureWarning, message=r".*google-cloud-storage.*")
