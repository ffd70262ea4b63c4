"""The settlement of a batch of compiled reads on a PostgreSQL store, run on its driver directly.

What RequestLedger's general path does in some seven statements through SQLAlchemy (revocation
lookup, persons recorded, counters, chain head, audit append) is done here in two, inside one
transaction: BEGIN, SETTLE, APPEND, COMMIT.

SETTLE looks the batch's token ids up among the revoked ones and, only if none is, records the
persons not yet recorded in their client's hour (the insert reports which were new), adds each
counter's share (the requests' counts, and the persons that were new) and takes the chain head's
lock. It returns the revoked token ids, the new persons, every counter's count and the head.
A batch with a revoked token id has written nothing: the caller rolls back and settles it on the
general path, which counts the others. The verdicts are then made exactly as the general path
makes them (see hub.ratelimit.tally_in), and APPEND writes the entries after the head.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from hub.audit import APPEND_PG_DRIVER, Chained, AuditEntry
from hub.store.tables import audit_head, person_read, rate_window, revoked_token

# Parameters: $1 token ids; $2..$4 persons to record (client, hour, citizen id), in key order;
# $5..$7 counters (client, window, amount before the new persons), in key order.
#
# Rows are locked in the order the parameters give (ORDER BY their position, not by the database's
# collation), which is the order the general path takes them in, so that two hub processes settling
# on the two paths cannot deadlock. Every counter is upserted, even one the batch adds nothing to:
# an upsert returns the latest committed count, where a plain SELECT in this statement would read
# its snapshot, taken before a concurrent settlement that recorded the same persons committed.
SETTLE = f"""
WITH revoked AS (
    SELECT jti FROM {revoked_token.name} WHERE jti = ANY($1::text[])
), ins AS (
    INSERT INTO {person_read.name} (client_id, hour, citizen_id)
    SELECT c, h, i FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(c, h, i, n)
    WHERE NOT EXISTS (SELECT 1 FROM revoked)
    ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING client_id, hour, citizen_id
), wanted AS (
    SELECT c AS client_id, w AS "window", a AS amount, n AS position
    FROM unnest($5::text[], $6::text[], $7::int[]) WITH ORDINALITY AS t(c, w, a, n)
), amounts AS (
    SELECT w.client_id, w."window", w.position,
           w.amount + (SELECT count(*) FROM ins WHERE ins.client_id = w.client_id AND 'p' || ins.hour = w."window")
           AS amount
    FROM wanted w
), up AS (
    INSERT INTO {rate_window.name} (client_id, "window", count)
    SELECT client_id, "window", amount FROM amounts
    WHERE NOT EXISTS (SELECT 1 FROM revoked)
    ORDER BY position
    ON CONFLICT (client_id, "window") DO UPDATE SET count = {rate_window.name}.count + EXCLUDED.count
    RETURNING client_id, "window", count
), head AS (
    UPDATE {audit_head.name} SET last_id = last_id WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM revoked)
    RETURNING last_id, last_hash
)
SELECT 'r', jti, NULL, NULL, NULL::bigint FROM revoked
UNION ALL SELECT 'i', client_id, hour, citizen_id, NULL FROM ins
UNION ALL SELECT 'c', client_id, "window", NULL, count FROM up
UNION ALL SELECT 'h', last_hash, NULL, NULL, last_id FROM head
"""


class Settled:
    """What SETTLE found: revoked token ids, the persons newly recorded by (client, hour), every
    counter's latest committed count with the batch's share added (none for a counter it adds
    nothing to), the head."""

    def __init__(self, rows: Sequence) -> None:
        self.revoked: set[str] = set()
        self.new: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.counts: dict[tuple[str, str], int] = {}
        self.head: tuple[int, str] | None = None
        for kind, a, b, c, n in rows:
            if kind == "r":
                self.revoked.add(a)
            elif kind == "i":
                self.new[(a, b)].add(c)
            elif kind == "c":
                self.counts[(a, b)] = n
            else:
                self.head = (n, a)


def settle_arguments(jtis: set[str], persons: list[tuple[str, str, str]],
                     counters: list[tuple[tuple[str, str], int]]) -> list:
    """SETTLE's parameters: token ids, persons to record, and counters with what the requests add."""
    persons = sorted(persons)
    counters = sorted(counters)
    return [
        sorted(jtis),
        [p[0] for p in persons], [p[1] for p in persons], [p[2] for p in persons],
        [c[0][0] for c in counters], [c[0][1] for c in counters], [c[1] for c in counters],
    ]


async def append(driver, entries: list[AuditEntry], head: tuple[int, str]) -> list[int]:
    """Append the entries after the head whose lock SETTLE took; their ids."""
    chained = Chained(entries, *head)
    await driver.execute(APPEND_PG_DRIVER, *chained.arrays())
    return chained.ids
