"""Import a catalog from JSON Lines into the tables (DynamoDB Local or a real AWS table): ``importer.load``.

    python -m devtools.cli.import_catalog --table catalog [--endpoint-url URL] [--region REGION] [--create-table] FILE

With ``--endpoint-url`` (DynamoDB Local) and no AWS credentials in the environment, it signs with
dummy ones: DynamoDB Local accepts any. ``--create-table`` creates a missing table from
``template.yaml`` (keys, indexes and stream as deployed).

Exit status: 0 all lines loaded, 2 some lines rejected, 1 nothing could be done.
"""

import argparse
import sys
from pathlib import Path

from importer.load import CannotImport, Report, dynamodb_client, ensure_table, read_catalog, write_catalog
from importer.writer import CatalogWriter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.import_catalog", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="JSON Lines catalog")
    parser.add_argument("--table", required=True, help="table name")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (DynamoDB Local); default: AWS")
    parser.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    parser.add_argument("--create-table", action="store_true", help="create the table from template.yaml if it is missing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    if not args.file.is_file():
        parser.exit(1, f"error: no such file: {args.file}\n")
    report = Report()
    with args.file.open("rb") as lines:
        catalog = read_catalog(lines, report)
    try:
        client = dynamodb_client(args.endpoint_url, args.region)
        ensure_table(client, args.table, create=args.create_table)
    except CannotImport as error:
        sys.stderr.write("\n".join(report.lines()[1:]) + f"\nerror: {error}\n")
        return 1
    write_catalog(CatalogWriter(client, args.table), catalog, report, progress=not args.quiet)
    sys.stderr.write("\n".join(report.lines()) + "\n")
    return 2 if report.rejected else 0


if __name__ == "__main__":
    sys.exit(main())
