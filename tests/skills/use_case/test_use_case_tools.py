"""The use-case tools run directly with a ToolContext on a temp session folder."""

from __future__ import annotations

import json
import struct

import pytest
from pydantic import ValidationError

from skills.catalog import get
from skills.toolkit import ToolContext
from skills.use_case import base_models
from skills.use_case.tools import approve_use_case, propose_base_model, update_use_case, write_use_case
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec

GIB = base_models.GIB


def spec_args(**overrides):
    args = {
        "name": "Transaction categorizer",
        "business_problem": "Categorize bank transactions into our categories.",
        "primary_users": "the finance app",
        "task_type": "classification",
        "contract": {
            "input_description": "One bank transaction line.",
            "output_description": "One label.",
            "output_format": "label",
            "labels": ["food", "rent", "travel"],
            "system_prompt": "Categorize the transaction. Answer with exactly one of: food, rent, travel.",
        },
        "success_tenets": [
            {"name": "correct_label", "description": "Right label.", "measured_by": "code", "metric": "label_match"},
            {"name": "label_only", "description": "Only a label.", "measured_by": "code", "metric": "regex",
             "params": {"pattern": "^(?:food|rent|travel)$"}},
            {"name": "unclear_inputs", "description": "Plausible label for odd inputs.", "measured_by": "judge",
             "rubric": "Score 1 when plausible."},
        ],
    }
    args.update(overrides)
    return args


@pytest.fixture
def ctx(tmp_path):
    session = tmp_path / "session"
    session.mkdir()
    return ToolContext(session_dir=session)


def call(tool, ctx, **args):
    return tool.run(ctx, tool.validate(args))


def read(ctx) -> UseCaseSpec:
    return load_spec(ctx.session_dir / "use_case.yaml", UseCaseSpec)


def test_the_step_offers_its_tools_with_the_right_permissions():
    tools = {t.name: t for t in get("use_case").tools()}
    assert {name: t.permission for name, t in tools.items()} == {
        "propose_base_model": "always", "draft_use_case": "ask", "write_use_case": "ask", "update_use_case": "ask",
        "approve_use_case": "ask",
    }
    params = tools["write_use_case"].schema()["function"]["parameters"]
    assert set(params["required"]) == {"name", "business_problem", "primary_users", "task_type", "contract", "success_tenets"}


def test_write_shows_a_diff_then_writes_a_valid_draft(ctx):
    args = write_use_case.validate(spec_args())
    preview = write_use_case.describe(ctx, args)
    assert "Create use_case.yaml" in preview.summary
    assert preview.diff.startswith("--- /dev/null") and "+name: Transaction categorizer" in preview.diff
    assert not (ctx.session_dir / "use_case.yaml").exists(), "the preview writes nothing"
    result = write_use_case.run(ctx, args)
    assert not result.is_error, result.content
    assert result.files == ["use_case.yaml"] and result.data["status"] == "draft"
    text = (ctx.session_dir / "use_case.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "name: Transaction categorizer" in result.content, "the result shows the written spec"
    spec = read(ctx)
    assert spec.status == "draft" and len(spec.success_tenets) == 3
    assert spec.base_model == base_models.EMBEDDED


def test_writing_again_previews_the_difference_only(ctx):
    call(write_use_case, ctx, **spec_args())
    preview = write_use_case.describe(ctx, write_use_case.validate(spec_args(primary_users="the finance team")))
    assert preview.summary.startswith("Replace use_case.yaml")
    assert "-primary_users: the finance app" in preview.diff and "+primary_users: the finance team" in preview.diff
    assert "labels" not in preview.diff


def test_invalid_contract_is_refused_before_approval_naming_the_field():
    bad = spec_args(contract={"input_description": "x", "output_description": "y", "output_format": "label"})
    with pytest.raises(ValidationError) as info:
        write_use_case.validate(bad)
    assert "contract" in str(info.value) and "labels" in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"success_tenets": [{"name": "a", "description": "x", "metric": "label_match"}] * 2}, "unique"),
        ({"success_tenets": []}, "`success_tenets`"),
        ({"name": ""}, "`name`"),
    ],
)
def test_invalid_spec_is_a_tool_error_naming_the_field(ctx, overrides, field):
    try:
        result = call(write_use_case, ctx, **spec_args(**overrides))
    except ValidationError as exc:  # caught by the engine's argument validation instead
        assert field.strip("`").split("`")[0] in str(exc)
        return
    assert result.is_error and field in result.content
    assert not (ctx.session_dir / "use_case.yaml").exists()


def test_tenet_without_a_metric_names_the_tenet():
    bad = spec_args(success_tenets=[{"name": "a", "description": "x", "measured_by": "code"}])
    with pytest.raises(ValidationError) as info:
        write_use_case.validate(bad)
    assert "success_tenets.0" in str(info.value) and "metric" in str(info.value)


def test_a_base_model_that_cannot_be_used_is_refused(ctx):
    result = call(write_use_case, ctx, **spec_args(base_model="Qwen/Qwen2.5-7B-Instruct"))
    assert result.is_error and "`base_model`" in result.content and "not reachable" in result.content
    result = call(write_use_case, ctx, **spec_args(base_model="./no/such/folder"))
    assert result.is_error and "does not exist" in result.content


def test_update_shows_a_diff_applies_changes_and_keeps_comments(ctx):
    call(write_use_case, ctx, **spec_args())
    path = ctx.session_dir / "use_case.yaml"
    path.write_text(path.read_text().replace("primary_users:", "# who reads the answers\nprimary_users:"))
    changes = {"success_tenets[1].name": "exact_label", "contract.labels[+]": "savings", "primary_users": "the finance team"}
    preview = update_use_case.describe(ctx, update_use_case.validate({"changes": changes}))
    assert "-  - name: label_only" in preview.diff and "+  - name: exact_label" in preview.diff
    assert "+    - savings" in preview.diff
    result = call(update_use_case, ctx, changes=changes)
    assert not result.is_error, result.content
    assert result.data["changed"] and "```diff" in result.content
    spec = read(ctx)
    assert spec.success_tenets[1].name == "exact_label"
    assert spec.contract.labels == ["food", "rent", "travel", "savings"]
    assert spec.primary_users == "the finance team"
    assert "# who reads the answers" in path.read_text()


def test_update_accepts_dotted_indexes_and_removes_optional_fields(ctx):
    call(write_use_case, ctx, **spec_args())
    call(update_use_case, ctx, changes={"success_tenets.2.description": "Odd inputs still get a sensible label.",
                                        "contract.system_prompt": None})
    spec = read(ctx)
    assert spec.success_tenets[2].description.startswith("Odd inputs")
    assert spec.contract.system_prompt is None


def test_editing_an_approved_spec_sets_it_back_to_draft(ctx):
    call(write_use_case, ctx, **spec_args())
    call(approve_use_case, ctx)
    assert read(ctx).status == "approved"
    call(update_use_case, ctx, changes={"name": "Categorizer v2"})
    assert read(ctx).status == "draft"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contract.labelz": ["a"]}, "`contract.labelz`: Extra inputs are not permitted"),
        ({"task_type": "poetry"}, "`task_type`"),
        ({"success_tenets[7].name": "x"}, "out of range"),
        ({"contract.labels": ["food", "food"]}, "must not repeat a label"),
        ({"status": "approved"}, "use approve_use_case"),
        ({"version": 2}, "cannot be changed"),
        ({"contract..labels": []}, "empty part"),
        ({}, "`changes` is empty"),
    ],
)
def test_bad_updates_are_refused_naming_the_field_and_change_nothing(ctx, changes, message):
    call(write_use_case, ctx, **spec_args())
    before = (ctx.session_dir / "use_case.yaml").read_text()
    result = call(update_use_case, ctx, changes=changes)
    assert result.is_error and message in result.content, result.content
    assert (ctx.session_dir / "use_case.yaml").read_text() == before
    preview = update_use_case.describe(ctx, update_use_case.validate({"changes": changes}))
    assert "not possible" in preview.summary and preview.diff is None


def test_update_without_a_spec_says_to_write_first(ctx):
    result = call(update_use_case, ctx, changes={"name": "x"})
    assert result.is_error and "write_use_case first" in result.content


def test_update_of_a_broken_file_reports_its_problems(ctx):
    call(write_use_case, ctx, **spec_args())
    path = ctx.session_dir / "use_case.yaml"
    path.write_text(path.read_text().replace("task_type: classification", "task_type: poetry"))
    result = call(update_use_case, ctx, changes={"name": "x"})
    assert result.is_error and "task_type" in result.content and "has problems" in result.content


def test_approve_marks_approved_and_moves_to_the_data_step(ctx):
    call(write_use_case, ctx, **spec_args())
    preview = approve_use_case.describe(ctx, approve_use_case.validate({}))
    assert "-status: draft" in preview.diff and "+status: approved" in preview.diff
    result = call(approve_use_case, ctx)
    assert not result.is_error and result.phase == "data"
    assert len(result.data["sha256"]) == 64
    assert read(ctx).status == "approved"


def test_approve_without_a_spec_is_an_error(ctx):
    result = call(approve_use_case, ctx)
    assert result.is_error and result.phase is None


# -- base models -------------------------------------------------------------------------------


def test_propose_lists_the_embedded_default_as_fitting(ctx):
    result = call(propose_base_model, ctx)
    assert result.data["default"] == base_models.EMBEDDED
    assert base_models.EMBEDDED in result.data["fitting"]
    assert "not reachable" in result.content, "HF_HUB_OFFLINE is set in tests"


def _fake_safetensors(path, shapes):
    header = {name: {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]} for name, shape in shapes.items()}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)


def test_a_local_folder_is_sized_from_its_weights(ctx, tmp_path):
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 1000}))
    _fake_safetensors(folder / "model.safetensors", {"embed": [1000, 64], "layer": [64, 64]})
    assert base_models.params_of_folder(folder) == 1000 * 64 + 64 * 64
    result = call(propose_base_model, ctx, model=str(folder))
    assert not result.is_error and result.data["fitting"] == [str(folder)]


def test_a_local_folder_is_sized_from_its_config_without_weights(tmp_path):
    folder = tmp_path / "config-only"
    folder.mkdir()
    config = {"hidden_size": 576, "num_hidden_layers": 30, "vocab_size": 49152, "intermediate_size": 1536,
              "num_attention_heads": 9, "num_key_value_heads": 3, "tie_word_embeddings": True}
    (folder / "config.json").write_text(json.dumps(config))
    params = base_models.params_of_folder(folder)
    assert abs(params - 134_515_008) / 134_515_008 < 0.01, params


def test_a_model_too_big_for_this_machine_is_refused_with_the_reason(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"hidden_size": 8192, "num_hidden_layers": 80, "vocab_size": 128256,
                                                    "intermediate_size": 28672, "num_attention_heads": 64,
                                                    "num_key_value_heads": 8}))
    choice = base_models.check_model(str(folder), "lora", base_models.Memory(total=24 * GIB, available=20 * GIB))
    assert not choice.fits and choice.params > 60e9
    assert "needs about" in choice.reason and "more than the 20.0 GiB" in choice.reason


def test_full_fine_tuning_may_not_fit_where_lora_does():
    memory = base_models.Memory(total=24 * GIB, available=20 * GIB)
    ref = "embedded:SmolLM2-135M-Instruct"
    assert base_models.check_model(ref, "full", memory).fits
    big = base_models.Memory(total=4 * GIB, available=2 * GIB)
    full = base_models.check_model(ref, "full", big)
    assert not full.fits and "use adapter lora" in full.reason
    assert base_models.check_model(ref, "lora", big).fits


def test_propose_refuses_a_named_model_that_does_not_fit(ctx, monkeypatch):
    monkeypatch.setattr(base_models, "machine_memory", lambda: base_models.Memory(total=2 * GIB, available=1 * GIB))
    result = call(propose_base_model, ctx, model=base_models.EMBEDDED, adapter="full")
    assert result.is_error and "`model`" in result.content and "needs about" in result.content


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("embedded:Other-1B", "the only embedded model"),
        ("not a model", "neither"),
        ("./missing-folder", "does not exist"),
    ],
)
def test_unusable_references_say_why(ref, reason):
    choice = base_models.check_model(ref)
    assert not choice.fits and reason in choice.reason


def test_sizes_from_known_names_and_size_suffixes():
    assert base_models.params_from_name("Qwen/Qwen2.5-0.5B-Instruct") == 494_032_768
    assert base_models.params_from_name("someone/tiny-350M-chat") == 350_000_000
    assert base_models.params_from_name("someone/model") is None


def test_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24684092 kB\nMemFree:        1000 kB\nMemAvailable:   20000000 kB\n")
    memory = base_models.machine_memory(meminfo)
    assert memory.total == 24684092 * 1024 and memory.available == 20000000 * 1024


def test_a_model_in_the_local_hub_cache_is_usable_offline(tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--acme--tiny-chat" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps({"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 1000}))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    choice = base_models.check_model("acme/tiny-chat")
    assert choice.fits and "local Hugging Face cache" in choice.reason
    assert "acme/tiny-chat" in [c.ref for c in base_models.list_choices()]
