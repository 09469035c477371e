"""Kubeflow Pipelines: compiling the pipeline (compile.py, behind `kubeflow_runner.py`) and the entry
point every compiled task runs in the pipeline image (entrypoint.py, adapting the open-source KFP
launcher's ExecutorInput for TFX: executor_input.py). See docs/kubeflow.md."""
