"""The table's key layout: one place that spells every key.

- posting: PK ``<collection>#<id>``, SK ``posting#<path>``: one per access path of the record, a copy
  of the whole record plus ``fpk`` (partition), ``fsk`` (sort key), ``slot`` (dense position 0..n-1 in
  the partition) and ``search``. Indexed by ``Listing`` (``fpk``, ``fsk``; compact entries: keys and
  what filters look at), ``Pages`` (same keys, whole records) and ``Sampling`` (``fpk``, ``slot``;
  whole records, for uniform random picks)
- record:  the record's ``all`` posting (SK ``posting#all``, ``record_key``) is the record itself: a
  get reads it, and it is the one item of the record that every change of the record rewrites
- counter: PK = partition, SK ``count``, attribute ``n``: how many postings the partition holds
- owner:   PK ``owners#<id>``, SK ``record``

A partition name is ``<collection>|<scope>=<true|false>|<path>`` where path is ``all`` or
``<facet>=<value>``. A sort key is ``<encoded sort value>\x01<id>``, so ties are broken by id; the
separator sorts below every character a value may hold (control characters are refused on import).
A missing sort value is encoded as U+10FFFF, above every other text: last in ascending order.
"""

LISTING_INDEX = "Listing"
PAGES_INDEX = "Pages"
SAMPLING_INDEX = "Sampling"
RECORD = "record"
COUNT = "count"
POSTING = "posting#"
ALL = "all"
ALL_POSTING = POSTING + ALL
"""The SK of a record's ``all`` posting: the one stream record per record change the counter function reads."""


LAYOUT = 2
"""The version of this layout: a table written under another one has to be imported again (``make run``
rebuilds its local table when the version it recorded differs). 2: the record is its ``all`` posting."""


def record_key(collection: str, item_id: str) -> dict:
    """The key of a record of a collection: its ``all`` posting."""
    return {"PK": f"{collection}#{item_id}", "SK": ALL_POSTING}


def owner_key(owner_id: str) -> dict:
    return {"PK": f"owners#{owner_id}", "SK": RECORD}


def id_of(item: dict) -> str:
    """The id of the record an item (record, posting or index entry) belongs to."""
    return item["PK"].split("#", 1)[1]


def prefix_of(pk: str) -> str:
    """The collection (or ``owners``) a record's, or its postings', partition key belongs to."""
    return pk.split("#", 1)[0]


def path(facet: str | None = None, value: str | None = None) -> str:
    return ALL if facet is None else f"{facet}={value}"


def partition(collection: str, scope: str | None, scoped: bool | None, access_path: str) -> str:
    parts = [collection]
    if scope is not None:
        parts.append(f"{scope}={'true' if scoped else 'false'}")
    parts.append(access_path)
    return "|".join(parts)


def posting_sk(access_path: str) -> str:
    return POSTING + access_path


def counter_key(partition_name: str) -> dict:
    return {"PK": partition_name, "SK": COUNT}


# DynamoDB's key limits: 2,048 bytes for a partition key, 1,024 for a range key. Records' keyed
# values are at most 200 characters (800 bytes), so every stored key fits; a longer value asked
# for in a filter names a partition that cannot exist.
MAX_PARTITION_BYTES = 2048


def can_exist(partition_name: str) -> bool:
    return len(partition_name.encode()) <= MAX_PARTITION_BYTES


SEPARATOR = "\x01"
MISSING = "\U0010ffff"


def sort_key(sort_value: str | None, item_id: str) -> str:
    return f"{MISSING if sort_value is None else sort_value}{SEPARATOR}{item_id}"


def sort_value_of(entry: dict, key: str = "fsk") -> str:
    return entry[key].rsplit(SEPARATOR, 1)[0]


# Every sort key of sort value v lies strictly between v + "\x01" and v + "\x02", so these bounds
# are exclusive whatever the id.
def after(sort_value: str) -> str:
    return sort_value + "\x02"


def before(sort_value: str) -> str:
    return sort_value + SEPARATOR


def is_stored(bound: str) -> bool:
    """Whether a range-key bound is a stored key (a cursor's position) rather than one of
    ``after``/``before``, which fall between keys."""
    return not bound.endswith((SEPARATOR, "\x02"))


# Idempotency markers of the counter function (``catalog.counting``): one per stream record whose
# counter changes were applied, PK ``applied#<stream event id>``, SK ``applied``, deleted by
# DynamoDB's TTL once the epoch second in ``expires`` has passed (the stream keeps records 24 h).
APPLIED = "applied"
EXPIRES = "expires"


def applied_key(event_id: str) -> dict:
    return {"PK": f"{APPLIED}#{event_id}", "SK": APPLIED}


# The counter function's pending deltas (``catalog.counting``): what the records of one stream batch
# add to each counter, gathered in one item (an attribute per partition, and a version ``v``) in the
# transactions that write the records' markers, then moved into the counters and deleted. Keyed by
# the batch's first stream record, so a batch Lambda hands over again from its start finds it.
PENDING = "pending"
VERSION = "v"


def pending_key(event_id: str) -> dict:
    return {"PK": f"{PENDING}#{event_id}", "SK": PENDING}
