"""Development tooling: the local stack, the template reader, the CLIs, the bench and the load test. Not deployed."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
