"""Render the README's Measured table from the committed bench report.

    python -m tests.bench.table [--report tests/bench/report.json] [--readme README.md] [--check]

The table sits in README.md between the markers ``<!-- bench-table:begin -->`` and
``<!-- bench-table:end -->``; everything between them is rewritten from the report: the machine
(CPU, cores, memory, versions), when each benchmark ran and the load it ran under, then one row per
measure (tests.bench.run.table). ``--check`` exits 1 when the README is not what the report renders.

The report is committed (tests/bench/report.json) so that every number in the README comes
from a file in the repository; `make bench` writes bench-report.json (ignored), and publishing a run
is a deliberate copy: ``make bench ARGS="--out tests/bench/report.json"``, then this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tests.bench.run import REPO, markdown, table

REPORT = REPO / "tests" / "bench" / "report.json"
README = REPO / "README.md"
BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"


def _day(stamp: str | None) -> str:
    return (stamp or "?")[:10]


def render(report: dict[str, Any], source: str = "tests/bench/report.json") -> str:
    """The block between the markers: the machine and dates, then the table."""
    m = report.get("machine", {})
    versions = ", ".join(f"{name} {m[name]}" for name in ("torch", "transformers", "trl", "textual", "litellm") if m.get(name))
    lines = [f"Rendered by `python -m tests.bench.table` from `{source}`. Machine: {m.get('cpu', '?')}, "
             f"{m.get('cpus', '?')} cores, {m.get('memory_gib', '?')} GiB; Python {m.get('python', '?')}; {versions}. "
             f"Report started {_day(report.get('started'))}.", ""]
    lines.append("| Benchmark | Measured (UTC) | Load average before | Settings |")
    lines.append("|---|---|---|---|")
    for name, result in report.get("results", {}).items():
        measured = result.get("measured", {})
        load = measured.get("load_average_before")
        settings = ", ".join(f"{k} {measured[k]}" for k in ("repeats", "heavy_repeats", "train_steps") if k in measured)
        lines.append(f"| {name} | {(measured.get('at') or '?').replace('T', ' ')[:16]} | "
                     f"{' / '.join(str(x) for x in load) if load else '?'} | {settings} |")
    lines += ["", markdown(table(report.get("results", {})))]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with the part between the markers replaced by ``block``."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"README has no {BEGIN} ... {END} block to render the table into")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.table", description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="exit 1 when the README differs from the rendering")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{args.report}: cannot read the bench report ({exc})", file=sys.stderr)
        return 2
    try:
        source = str(args.report.resolve().relative_to(REPO))
    except ValueError:
        source = str(args.report)
    text = args.readme.read_text(encoding="utf-8")
    try:
        new = replace_block(text, render(report, source))
    except ValueError as exc:
        print(f"{args.readme}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"{args.readme}: the Measured table is not what {source} renders; run python -m tests.bench.table",
                  file=sys.stderr)
            return 1
        return 0
    args.readme.write_text(new, encoding="utf-8")
    print(f"rendered {source} into {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
