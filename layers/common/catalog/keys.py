"""The table's key layout: one place that spells every key.

- posting: PK ``<collection>#<id>``, SK ``posting#<path>``: one per access path of the record, a copy
  of the whole record plus ``fpk`` (partition), ``fsk`` (sort key), ``slot`` (dense position 0..n-1 in
  the partition) and ``search``. Indexed by ``Listing`` (``fpk``, ``fsk``; compact entries: keys and
  what filters look at), ``Pages`` (same keys, whole records) and ``Sampling`` (``fpk``, ``slot``;
  whole records, for uniform random picks)
- record:  the record's ``all`` posting (SK ``posting#all``, ``record_key``) is the record itself: a
  get reads it, and it is the one item of the record that every change of the record rewrites
- owner:   PK ``owners#<id>``, SK ``record``

The counters table (written by the counter function only; the layout of its counts is ``catalog.cells``):

- counter: PK = partition, SK ``count``, attribute ``n``: how many postings the partition holds; its
  other attributes are the coarsest range buckets (``<attribute>:<prefix>``)
- range bucket: PK = partition, SK ``<attribute>:<prefix>``, an attribute per sub-bucket
- combinations: PK = a value's partition, SK ``with``, an attribute per combination of values it heads;
  the scope's ``all`` partition's ``with`` item counts each listed value and holds the overflow counts
- applied marker and pending deltas: the counter function's own bookkeeping (below)

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


LAYOUT = 7
"""The version of this layout: a table written under another one has to be imported again (``make run``
rebuilds its local table when the version it recorded differs). 2: the record is its ``all`` posting.
3: counts in the counters table, with range buckets and combinations (``catalog.cells``). 4: listed
values (each genre's count in its scope's ``with`` item and in each owner's), overflow counts moved
to the scope's ``with`` item. 5: the phrase index (``catalog.grams``) in the counters table. 6: its postings' instants as microseconds,
in blocks of up to 8,000 bytes. 7: spans across spaces in the phrase index."""


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


COUNTED = "n"
"""The attribute of a partition's counter item holding its number of postings."""
WITH = "with"
"""The SK of a partition's combinations item (``catalog.cells``)."""


def bucket_key(partition_name: str, attribute: str, prefix: str) -> dict:
    """The item of a partition holding the sub-buckets of the ``attribute`` values starting with ``prefix``."""
    return {"PK": partition_name, "SK": f"{attribute}:{prefix}"}


def root_bucket(attribute: str, prefix: str) -> str:
    """The counter item's attribute counting a partition's ``attribute`` values starting with ``prefix``."""
    return f"{attribute}:{prefix}"


def combinations_key(partition_name: str) -> dict:
    return {"PK": partition_name, "SK": WITH}


def overflow(facet: str) -> str:
    """The attribute of the scope's ``with`` item counting records with too many values of ``facet`` to be
    counted in combination."""
    return f"overflow:{facet}"


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


def id_of_sort_key(sort_key_text: str) -> str:
    """The id a sort key (``fsk``) ends with."""
    return sort_key_text.rsplit(SEPARATOR, 1)[1]


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
# add to the counters, one item per transaction that wrote their markers (SK ``deltas#<first record>``),
# then moved into the counters as a cursor item (SK ``cursor``) records how far, and deleted. Keyed
# by the batch's first stream record, so a batch Lambda hands over again from its start finds them.
PENDING = "pending"
DELTAS = "deltas#"
CURSOR = "cursor"


def pending_partition(event_id: str) -> str:
    return f"{PENDING}#{event_id}"


def deltas_key(event_id: str, first: str) -> dict:
    return {"PK": pending_partition(event_id), "SK": DELTAS + first}


def cursor_key(event_id: str) -> dict:
    return {"PK": pending_partition(event_id), "SK": CURSOR}
