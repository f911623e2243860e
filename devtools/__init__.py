"""Development tooling, never deployed: the local stack (``local/``), the template reader
(``template/``), the command lines (``cli/``), the OpenAPI document (``openapi/``), the bench and
the load test. What the local stack and every tool share is defined here, once.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
"""The region of the local stack (DynamoDB Local, the local Cognito, the intrinsics resolved locally)."""
ACCOUNT_ID = "123456789012"
"""The account the local stack resolves ``AWS::AccountId`` and ARNs to."""
TABLE_NAME = "catalog"
"""The catalog table's name wherever the local stack creates it from the template (DynamoDB Local, moto);
its counters table is ``devtools.template.table.counters_table_name(TABLE_NAME)``."""
