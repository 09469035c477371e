"""benchmarks/bulk_classify.py without a model: the generated contracts split back into their clauses."""

import csv

from benchmarks import bulk_classify
from lexflow.runs import classify as bulk


def test_generated_contracts_split_into_one_provision_per_clause(tmp_path):
    source = tmp_path / "clauses.csv"
    clauses = [
        "This Agreement shall be governed by the laws of the State of New York.",
        "Either party may terminate this Agreement upon thirty (30) days' prior written notice.",
        "The Receiving Party shall hold all Confidential Information in strict confidence.",
    ]
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([[c, "x"] for c in clauses])
    texts = bulk_classify._clauses(source, 10)  # cycled to the requested count
    folder = tmp_path / "docs"
    folder.mkdir()
    assert bulk_classify._write_documents(texts, folder, per_document=4) == 3
    rows = bulk.collect(folder)
    assert [r.document for r in rows] == ["contract-0000.txt"] * 4 + ["contract-0001.txt"] * 4 + [
        "contract-0002.txt"
    ] * 2
    assert [r.number for r in rows] == ["1", "2", "3", "4", "1", "2", "3", "4", "1", "2"]
    assert [r.text.split(". ", 1)[1] for r in rows] == texts
