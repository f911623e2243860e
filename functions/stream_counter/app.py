"""The stream counter function (``StreamCounterFunction``): keeps every count exact from the catalog
table's DynamoDB Stream.

Triggered by the stream (see template.yaml), it is the only function allowed to write, and only the
counters table.
The work, and why replays never count twice, is in ``catalog.counting``. It answers Lambda's
partial batch response, so a failure resumes the shard at the first record not applied.
"""

from aws_lambda_powertools import Logger

from catalog import counting

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return counting.default_counters().apply(event["Records"])
