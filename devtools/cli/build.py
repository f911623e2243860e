"""``make build ARCH=``: ``sam build`` of the template for another architecture (:mod:`devtools.template.build`).

python -m devtools.cli.build [--architecture x86_64] [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devtools.template import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--architecture", choices=build.ARCHITECTURES, default=build.machine_architecture(),
                        help="x86_64 or arm64 (default: this machine's)")  # fmt: skip
    parser.add_argument("--build-dir", type=Path, help="default: .aws-sam/<architecture>/build")
    args = parser.parse_args(argv)
    build_dir = (args.build_dir or build.default_build_dir(args.architecture)).resolve()
    try:
        build.build(args.architecture, build_dir)
    except build.BuildFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"built for {args.architecture} in {build.shown(build_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
