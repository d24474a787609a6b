from synth.records import PartialWriter, from_training_row, read_jsonl, sha256_files, to_training_row, write_jsonl


def test_formats_round_trip():
    record = {"input": "TESCO 12.00", "output": "groceries", "meta": {"category": "groceries"}}
    sft = to_training_row(record, "sft", "Categorize.")
    assert sft["prompt"][0] == {"role": "system", "content": "Categorize."}
    assert sft["completion"] == [{"role": "assistant", "content": "groceries"}]
    assert from_training_row(sft)["output"] == "groceries"
    pref = to_training_row({**record, "rejected": "dining"}, "preference")
    assert pref["chosen"][0]["content"] == "groceries" and pref["rejected"][0]["content"] == "dining"
    po = to_training_row(record, "prompt_only")
    assert po["reference"] == "groceries" and from_training_row(po)["input"] == "TESCO 12.00"


def test_partial_writer_resumes_after_torn_line(tmp_path):
    path = tmp_path / "p.jsonl"
    writer = PartialWriter(path)
    writer.add(0, {"input": "a"})
    writer.add(1, None, "bad")
    writer.close()
    with path.open("a") as handle:
        handle.write('{"i": 2, "rec')  # a crash mid-write
    again = PartialWriter(path)
    assert set(again.done) == {0, 1}
    again.add(2, {"input": "c"})
    again.add(0, {"input": "dup"})  # already done: ignored
    again.close()
    rows = read_jsonl(path)
    assert [r["i"] for r in rows] == [0, 1, 2]
    assert PartialWriter(path).dropped() == {"bad": 1}


def test_sha256_changes_with_content(tmp_path):
    a = tmp_path / "train.jsonl"
    write_jsonl(a, [{"x": 1}])
    h1 = sha256_files(a, tmp_path / "missing.jsonl")
    write_jsonl(a, [{"x": 2}])
    assert h1 != sha256_files(a, tmp_path / "missing.jsonl")
