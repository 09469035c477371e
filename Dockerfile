# The pipeline image: every component of the Kubeflow pipeline runs in it
# (`python kubeflow_runner.py --image <this image>`), and Beam workers can use it too.
#
#   docker build -t REGISTRY/lexflow:TAG .        # from the repository root
#
# Beam SDK harness of the exact Beam release the pipeline is pinned to (apache-beam 2.59.0, Python 3.10).
FROM apache/beam_python3.10_sdk:2.59.0 AS beam

# Base: the official TFX image of the release the pipeline is written for. It already holds tfx 1.16.0
# with the TF 2.16 / Beam 2.59 / TFT / TFMA / TFDV versions TFX was tested with, and TFX's Kubeflow entry
# point, which the compiled spec's command (`python -m lexflow.runs.kubeflow.entrypoint`) wraps. Building
# that stack on a bare Python image is slow and drifts from what TFX tested.
FROM tensorflow/tfx:1.16.0

# Keras 2 for tf.Transform 1.16. trainer/tf_env.py sets it on import too; the variable also covers
# processes that import TensorFlow first (Beam workers, a debugging shell).
ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The lock file was made on Python 3.10: fail here, not at run time, if the base image moved.
RUN python -c "import sys; assert sys.version_info[:2] == (3, 10), sys.version"

# kubeflow_runner.py passes in-image paths under /pipeline (--image-project-root), e.g. the schema
# at /pipeline/schema/<dataset>/schema.pbtxt and the demo data at /pipeline/data/demo.
WORKDIR /pipeline
COPY . /pipeline

# Versions from the lock file: what the tests ran with. Packages the TFX image already has at the
# locked version are kept; the rest (tensorflow-text, pydantic, typer, ...) are added.
RUN pip install -c requirements/constraints.txt -e . \
    && python -c "import kubeflow_runner, lexflow.runs.kubeflow.entrypoint, pipeline.pipeline, trainer.task, tensorflow_text"

# Lets Dataflow and portable runners use this image as the worker (--sdk_container_image=IMAGE): Transform's
# graph needs tensorflow-text and the trainer package on the workers. KFP ignores ENTRYPOINT: the compiled
# spec gives every component its own command.
COPY --from=beam /opt/apache/beam /opt/apache/beam

# A numeric non-root user: clusters that enforce runAsNonRoot can verify it. KFP's launcher runs as this
# user and copies artifacts to /minio, /s3 and /gcs (its LocalPathForURI); KFP 2.3+ mounts scratch volumes
# there, 2.0-2.2 do not, so the folders exist and belong to the user.
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin lexflow \
    && mkdir -p /minio /s3 /gcs && chown 10001 /minio /s3 /gcs
USER 10001

ENTRYPOINT ["/opt/apache/beam/boot"]
