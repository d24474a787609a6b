import csv
import json

import pytest

from synth import importing, seeds


def test_draft_offline_covers_every_label(bank_specs):
    use_case, _ = bank_specs
    rows = seeds.draft_offline(use_case, 12)
    assert 5 <= len(rows) <= 20
    assert {r["output"] for r in rows} == set(use_case.contract.labels)
    pref = seeds.draft_offline(use_case, 6, fmt="preference")
    assert all(r["chosen"] != r["rejected"] and r["rejected"] in use_case.contract.labels for r in pref)


def test_edit_add_delete(bank_session, bank_specs):
    use_case, _ = bank_specs
    seeds.save(bank_session, seeds.draft_offline(use_case, 12))
    index = seeds.add_row(bank_session, {"input": "NETFLIX.COM 15.99", "output": "entertainment"})
    assert seeds.load(bank_session)[index]["input"] == "NETFLIX.COM 15.99"
    seeds.update_row(bank_session, index, {"output": "shopping"})
    assert seeds.load(bank_session)[index]["output"] == "shopping"
    assert seeds.delete_rows(bank_session, [0, index]) == 2
    assert len(seeds.load(bank_session)) == 11
    with pytest.raises(seeds.SeedError):
        seeds.update_row(bank_session, 99, {"output": "x"})
    with pytest.raises(seeds.SeedError):
        seeds.add_row(bank_session, {"input": " "})
    assert "NETFLIX" not in seeds.table(seeds.load(bank_session))


def test_import_jsonl_csv_parquet_and_saved_dataset(tmp_path):
    rows = [{"description": f"TESCO {i}.00", "category": "groceries", "extra": i} for i in range(5)]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with (tmp_path / "d.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["description", "category", "extra"])
        writer.writeheader()
        writer.writerows(rows)
    import datasets

    ds = datasets.Dataset.from_list(rows)
    ds.to_parquet(str(tmp_path / "d.parquet"))
    ds.save_to_disk(str(tmp_path / "saved"))
    for source in ("d.jsonl", "d.csv", "d.parquet", "saved"):
        table = importing.read_table(tmp_path / source)
        proposal = importing.propose(table)
        assert proposal.mapping == {"input": "description", "output": "category"}, source
        assert proposal.kind == "text_label" and proposal.labels == ["groceries"]
        mapped = importing.map_rows(table, proposal.mapping)
        assert mapped[0]["input"] == "TESCO 0.00" and mapped[0]["output"] == "groceries"
    with pytest.raises(importing.DataFileError, match="not in the data"):
        importing.map_rows(rows, {"input": "nope"})


def test_parse_json_reply_tolerates_fences():
    assert seeds.parse_json_reply('```json\n[{"input": "a", "output": "b"}]\n```')[0]["input"] == "a"
    assert seeds.parse_json_reply('Here you go: {"input": "a"}')["input"] == "a"
