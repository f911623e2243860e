"""What the functions report to CloudWatch besides their logs: metrics, as embedded metric format
(EMF) lines in the function's log, with Powertools Metrics.

Namespace ``POWERTOOLS_METRICS_NAMESPACE`` (template: ``SongsCatalog``), one dimension ``service`` (``POWERTOOLS_SERVICE_NAME``),
flushed once per request by the entrypoint (``catalog.http.lambda_entrypoint``):

- ``Requests``: 1 per request the function answered;
- ``Errors`` and ``Error<status>`` (``Error400``, ``Error404``, ``Error422``, ``Error500``,
  ``Error503``...): 1 per answer of 400 or more. The status is in the metric name rather than a
  dimension: a handful of names, and every metric of the request shares the same dimensions;
- ``ItemsRead`` and ``ReadCapacity``: what the request read from DynamoDB, from its ``ReadMeter``
  (reported with the ``read cost`` log line, so only by requests that got their answer from DynamoDB);
- ``ColdStart``: 1 on a function instance's first request (Powertools, its own dimensions).

``POWERTOOLS_METRICS_DISABLED=true`` (set by the local stack) leaves the EMF lines out.
"""

import os

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from catalog.store import ReadMeter

DEFAULT_NAMESPACE = "SongsCatalog"
DEFAULT_SERVICE = "catalog"

# Without a namespace Powertools refuses to flush, failing the request: defaults keep the API up
# (and the dimension there) in an environment that lacks the template's variables.
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE,
    service=os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE,
)


def begin() -> None:
    """Start a request's metrics from nothing. Powertools clears them only when it publishes them:
    with ``POWERTOOLS_METRICS_DISABLED`` they would pile up request after request (and be printed
    anyway, every 100 values of a metric)."""
    metrics.clear_metrics()


def reads(meter: ReadMeter) -> None:
    metrics.add_metric(name="ItemsRead", unit=MetricUnit.Count, value=meter.items)
    metrics.add_metric(name="ReadCapacity", unit=MetricUnit.Count, value=meter.capacity)


def answered(status: int) -> None:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if status >= 400:
        metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"Error{status}", unit=MetricUnit.Count, value=1)
