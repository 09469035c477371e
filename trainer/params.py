"""Hyper-parameters of Transform, the model search and Trainer: the part of the pipeline config the module code reads.

They reach `preprocessing_fn`, `tuner_fn` and `run_fn` through `custom_config` (so they are part of
those components' cache keys, and nothing else is); `pipeline.config.PipelineConfig` holds them under
`transform`, `tuning` and `train`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, field_validator

from core.strict import StrictModel


class TransformParams(StrictModel):
    """Text preprocessing inside the Transform graph (and so inside the served model)."""

    max_tokens: int = Field(400, ge=8, description="Tokens kept per document (truncation by slicing).")
    ngram_max: int = Field(2, ge=1, le=3, description="Word n-grams up to this width (1 = unigrams).")
    vocab_size: int = Field(60_000, ge=100, description="Most frequent n-grams kept; the rest share one OOV id.")
    min_df: int = Field(2, ge=1, description="Drop n-grams seen in fewer training documents than this.")
    char_ngrams: Optional[tuple[int, int]] = Field(
        (2, 5),
        description="Also character n-grams of each word, padded with a space on both sides (scikit-learn's "
        "char_wb), of widths lo..hi; null = words only. They catch inflections and rare spellings that word "
        "n-grams split into one-off terms; the default ensemble's SVM and logistic regression read them "
        "(without them the ToS datasets lose 0.05 macro-F1, BENCHMARKS.md).",
    )
    char_vocab_size: int = Field(
        200_000, ge=100, description="Most frequent character n-grams kept (with char_ngrams)."
    )
    sublinear_tf: bool = Field(
        True, description="Term weight 1 + ln(count) instead of count (scored better on the legal benchmarks)."
    )
    length_buckets: list[int] = Field(
        [20, 60], description="Token-count boundaries of the `length_bucket` evaluation slice."
    )

    @field_validator("char_ngrams")
    @classmethod
    def _char_widths(cls, value: Optional[tuple[int, int]]) -> Optional[tuple[int, int]]:
        if value is not None and not 1 <= value[0] <= value[1] <= 8:
            raise ValueError(f"char_ngrams must be [lo, hi] with 1 <= lo <= hi <= 8, got {list(value)}")
        return value


class HeadParams(StrictModel):
    """One member of the averaged ensemble (trainer/model.py `build_ensemble`)."""

    kind: Literal["svm", "nbsvm", "logreg"] = Field(
        description="svm: one-vs-rest squared hinge over word + char TF-IDF; nbsvm: the same loss over the word "
        "TF-IDF scaled by each class's log-count ratio; logreg: softmax cross-entropy over word + char TF-IDF."
    )
    l2: float = Field(ge=0.0, description="L2 penalty on the head's weights, added to the mean example loss.")
    class_weighting: float = Field(0.0, ge=0.0, le=2.0, description="Power p of the class weights (N / (C n_c)) ** p.")


class TrainParams(StrictModel):
    """Keras model and training loop."""

    train_steps: int = Field(800, ge=1)
    eval_steps: int = Field(50, ge=1)
    batch_size: int = Field(32, ge=1)
    hidden_units: int = Field(512, ge=0, description="Width of the hidden layer; 0 = a linear model over the n-grams.")
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    input_dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout on TF-IDF input weights.")
    learning_rate: float = Field(1e-3, gt=0.0)
    lr_decay: Literal["none", "cosine"] = Field(
        "none",
        description="cosine: decay the learning rate to 0 over train_steps, so Adam settles at the "
        "optimum instead of wandering around it (less run-to-run noise for the linear SVM head).",
    )
    class_weighting: Union[Literal["none", "sqrt", "balanced"], Annotated[float, Field(ge=0.0, le=2.0)]] = Field(
        "sqrt",
        description="Loss weight per class from label frequencies (macro-F1 vs. accuracy trade-off); "
        "a number p weighs class c by (N / (C * n_c)) ** p (above 1 favours rare classes more than 'balanced').",
    )
    loss: Literal["crossentropy", "squared_hinge"] = Field(
        "crossentropy",
        description="squared_hinge: a one-vs-rest linear SVM (with hidden_units 0 and l2 > 0); its margins are "
        "served as calibrated softmax probabilities, like the MLP's logits (trainer/calibration.py).",
    )
    l2: float = Field(0.0, ge=0.0, description="L2 penalty on the n-gram weights, added to the mean example loss.")
    heads: list[HeadParams] = Field(
        [],
        description="An ensemble instead of one model: these linear heads over the same TF-IDF inputs, trained "
        "together (their losses summed), served as the average of their calibrated probabilities "
        "(the model search's default; hidden_units, loss, l2 and class_weighting then do not apply).",
    )
    seed: int = 42


class TuningParams(StrictModel):
    """Model search before training (a TFX Tuner): model family and regularisation chosen on the eval split.

    The search (trainer/tuning.py, trainer/search_space.py) replaces `train`'s model settings (family, l2,
    dropout, class weights, steps); batch-independent settings (seed, eval_steps) still come from `train`.
    """

    enabled: bool = Field(
        True,
        description="Search before training (default). false = train exactly the `train` settings: how "
        "explicit hyper-parameters override the search (e.g. benchmarks/configs/*.json).",
    )
    time_budget_seconds: float = Field(
        300.0,
        gt=0.0,
        description="Time for the search's trials: a trial starts only while its estimated cost fits in what "
        "is left (estimates: a short timing probe per model family, then the family's last trial). The start-up "
        "probe and the first trial always run and are not counted, so the search can take longer than this.",
    )
    seconds_per_1k_rows: float = Field(
        20.0,
        gt=0.0,
        description="The budget also grows with the training rows (this many seconds per 1000 rows, "
        "at least min_budget_seconds) up to time_budget_seconds: a small dataset's whole run stays short, "
        "a large one gets the time its slower trials need.",
    )
    min_budget_seconds: float = Field(20.0, gt=0.0, description="Budget floor for tiny datasets.")
    max_trials: int = Field(12, ge=1, description="At most this many trials, whatever the budget.")
    epochs: float = Field(
        # 25 left the ensemble's heads (the logistic regression most) short of their optimum: on the
        # quality suite 60 gains +0.005 mean macro-F1 and removes the one accuracy drop (BENCHMARKS.md).
        60.0,
        gt=0.0,
        description="Passes over the training rows per trial of the ensemble and the linear SVM (and for "
        "the final model); fewer if one trial would take more than a quarter of the budget.",
    )
    mlp_epochs: float = Field(8.0, gt=0.0, description="Passes over the training rows per trial of the MLP.")
    families: list[Literal["ensemble", "linear_svm", "mlp"]] = Field(
        ["ensemble"],
        min_length=1,
        description="Model families the search may choose; the first is where the search starts. ensemble: "
        "the calibrated average of a word+char SVM, an NB-SVM and a logistic regression (fixed C and class "
        "weights per member; BENCHMARKS.md), pruned by `prune_members`; linear_svm and mlp walk their C or "
        "dropout and class weights. The default is the ensemble alone: on the benchmark suite, validation "
        "splits that share documents with the fitting rows chose worse than the fixed average.",
    )
    prune_members: Literal["by_document", "always", "never"] = Field(
        "by_document",
        description="When the ensemble drops a member: its pairs and single heads are scored on validation "
        "from the same fitted heads (no extra training) and replace it only under the accuracy guard and "
        "min_gain_se. by_document: only when every validation row belongs to a document (the data's "
        "`document` column), so validation is unseen documents; a row-hashed split shares documents with "
        "the fitting rows and misled the rule on the benchmarks.",
    )
    max_accuracy_drop: float = Field(
        0.005,
        ge=0.0,
        le=1.0,
        description="Accuracy guard: a trial whose eval accuracy is more than this (plus "
        "min_gain_se standard errors of the paired difference) below the best trial's is never chosen.",
    )
    min_gain_se: float = Field(
        2.0,
        ge=0.0,
        description="A trial replaces the current choice only if its eval macro-F1 gain exceeds this "
        "many standard errors (paired bootstrap over the eval rows): small eval splits do not pick noise.",
    )
