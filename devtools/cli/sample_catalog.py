"""Write the deterministic sample catalog (``devtools.sample_catalog``) as JSON Lines.

python -m devtools.cli.sample_catalog --out catalog.jsonl [--songs N] [--owners N] [--soundtracks N] [--seed S]
"""

import argparse
import json
from pathlib import Path

from devtools.sample_catalog import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.sample_catalog", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--songs", type=int, default=2400)
    parser.add_argument("--owners", type=int, default=200)
    parser.add_argument("--soundtracks", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for record in generate(args.songs, args.owners, args.seed, args.soundtracks):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
