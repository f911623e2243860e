"""Write docs/openapi.json from the code (``make openapi``; ``--check``: only say whether it is current).

    python -m devtools.cli.openapi [--check] [--output FILE]

The document is :func:`devtools.openapi.document.build`'s.
"""

import argparse
import sys
from pathlib import Path

from devtools.openapi.document import DOCUMENT_PATH, build, render


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(prog="python -m devtools.cli.openapi", description=__doc__.splitlines()[0])
    arguments.add_argument("--check", action="store_true", help="exit 1 if the committed document is not current")
    arguments.add_argument("--output", type=Path, default=DOCUMENT_PATH)
    options = arguments.parse_args(argv)
    text = render(build())
    if options.check:
        current = options.output.exists() and options.output.read_text(encoding="utf-8") == text
        print(f"{options.output}: {'current' if current else 'stale, run `make openapi`'}")
        return 0 if current else 1
    options.output.write_text(text, encoding="utf-8")
    print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
