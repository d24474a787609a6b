"""Tools of the data step. The catalog (skills/catalog.py) offers the Tool objects named here, in this
order; each lives in the module of its concern:

- own_data.py          the person's own data: inspect a file, import it, attach grounding documents
- tools_seeds.py       the seed examples (data/examples.jsonl)
- tools_spec.py        data_generation.yaml and its programmatic generator (generator.py)
- tools_generation.py  generating the records, in the call or as a background job
- tools_quality.py     the quality gate: score, report, waive, finish the step
"""

from __future__ import annotations

# In the order the planner is offered them (imports bind in the order they are written).
from skills.data.own_data import attach_document, import_data, inspect_data_file
from skills.data.tools_seeds import draft_seed_examples, show_seed_examples, add_seed_example, edit_seed_example
from skills.data.tools_seeds import delete_seed_examples
from skills.data.tools_spec import write_data_generation_spec
from skills.data.tools_generation import generate_data
from skills.data.tools_spec import check_generator, write_generator_code
from skills.data.tools_generation import wait_for_data_generation, cancel_data_generation
from skills.data.tools_quality import score_data, show_quality_report, waive_findings, finish_data_step

__all__ = [
    "attach_document", "import_data", "inspect_data_file",
    "draft_seed_examples", "show_seed_examples", "add_seed_example", "edit_seed_example", "delete_seed_examples",
    "write_data_generation_spec", "generate_data", "check_generator", "write_generator_code",
    "wait_for_data_generation", "cancel_data_generation",
    "score_data", "show_quality_report", "waive_findings", "finish_data_step",
]
