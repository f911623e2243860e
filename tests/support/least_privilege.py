"""What each function may do, as the two least-privilege tests state it: on template.yaml as written
(tests/infrastructure/test_template.py) and as CloudFormation deploys it (test_template_security.py).

Actions in the template's spelling; IAM compares them case-insensitively (``lowered``).
"""

from collections.abc import Iterable

READ_FUNCTIONS = ("ListFunction", "CountFunction", "GetFunction", "RandomFunction")
"""The API functions: they read the tables and write nothing."""
WRITER = "StreamCounterFunction"
"""The only function that writes: the counters table, from the catalog table's stream."""

READ_ACTIONS = frozenset({"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"})
STREAM_READ_ACTIONS = frozenset(
    {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
)
# TransactWriteItems is authorised as the actions it holds: the counter function puts markers and
# pending deltas, updates counters and its cursor, deletes the pending deltas it moved, which it reads back;
# for the phrase index it Queries a gram's blocks, puts and deletes blocks and updates the gram's head
# (the same actions: the index needs no other). The API functions Query the index's heads and blocks.
COUNTER_WRITE_ACTIONS = frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"})


def lowered(actions: Iterable[str]) -> set[str]:
    """Actions as the evaluator compares them (IAM actions are case-insensitive)."""
    return {action.lower() for action in actions}
