"""CPU cost of the JSON guards on one document: the nesting measure, the check for numbers
Arrow's reader rounded, and the duplicate-key check on the Python path.

CPU time (``time.process_time``), median of interleaved rounds in one process, so a loaded
machine barely moves it. Usage (from the repository root)::

    .venv/bin/python benchmarks/generate.py --rows 100k --formats solaredge --out /tmp/bench
    .venv/bin/python benchmarks/json_guards.py /tmp/bench/solaredge_100k.json --source solaredge

The duplicate-key figure needs a document read by Python's parser: the script writes a copy
with one reading replaced by ``"N/A"`` (Arrow's reader then cannot type it).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import odse
from odse.engine import json_numbers
from odse.readers import json_input


def cpu(function: Callable[[], Any]) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def interleaved(variants: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, function in variants.items():
            times[name].append(cpu(function))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("document", type=Path)
    parser.add_argument("--source", default="solaredge")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    raw = args.document.read_bytes()
    source = args.source

    def transform(path: Path) -> Callable[[], Any]:
        return lambda: odse.transform_table(path, source=source)

    transform(args.document)()  # warm up: imports, the spec
    whole = interleaved({"transform_table": transform(args.document)}, args.rounds)
    depth = interleaved({"nesting_depth": lambda: json_input.nesting_depth(raw, 512)},
                        args.rounds * 2)
    real_rounded = json_numbers.rounded

    def without_rounded() -> None:
        json_numbers.rounded = lambda frame, columns: False
        try:
            transform(args.document)()
        finally:
            json_numbers.rounded = real_rounded

    rounded = interleaved({"with": transform(args.document), "without": without_rounded},
                          args.rounds)
    text = raw.decode("utf-8")
    reading = re.search(r'(:\s*)(-?\d+(?:\.\d+)?)', text[1000:])
    real_loads = json_input.loads

    def unchecked(raw_text: Any, name: str, line: Any = None, **_: Any) -> Any:
        return real_loads(raw_text, name, line, check_keys=False)

    with tempfile.TemporaryDirectory() as folder:
        untyped = Path(folder) / "untyped.json"
        if reading is None:
            sys.exit("no number found to replace")
        at = 1000 + reading.start(2)
        untyped.write_text(text[:at] + '"N/A"' + text[1000 + reading.end(2):])

        def python_unchecked() -> None:
            json_input.loads = unchecked  # type: ignore[assignment]
            try:
                transform(untyped)()
            finally:
                json_input.loads = real_loads

        keys = interleaved({"checked": transform(untyped), "unchecked": python_unchecked},
                           max(3, args.rounds // 2))
    mb = len(raw) / 1e6
    print(f"{args.document.name}: {mb:.1f} MB, CPU seconds, medians")
    print(f"  transform_table                       {whole['transform_table']:.3f}")
    print(f"  nesting measure                       {depth['nesting_depth']:.4f} "
          f"({depth['nesting_depth'] / whole['transform_table']:.1%} of it)")
    print(f"  rounded-number check: with / without  {rounded['with']:.3f} / "
          f"{rounded['without']:.3f}")
    print(f"  Python path, duplicate keys checked / not  {keys['checked']:.3f} / "
          f"{keys['unchecked']:.3f}")


if __name__ == "__main__":
    main()
