"""Several `hotline serve` nodes on one PostgreSQL.

What every node does: serves the API, the pages and `/api/events`; keeps its own AMI connection
and its own seat picture, rebuilt from Asterisk on every connect and followed live (reading is
harmless, and a node that takes the bridge over already has an up-to-date picture); runs
ingestion, triage and the recording register, each item claimed so that no two nodes handle it.

What only the holder of a PBX's bridge lease does (`BridgeLease`): the writes that follow from
the AMI stream — the hall recorder (seat history, call records, the day's counters), the
queue_log books, resuming three-way sessions found in the database. A holder that cannot renew
its lease stops writing before any other node can take it; another node takes it within
`TTL_S + RENEW_S` seconds.

Live changes that do not come from the AMI stream (voicemails, callbacks) are relayed between
nodes by PostgreSQL NOTIFY (`FeedRelay`); seat, queue and call changes reach every node's feed
from its own AMI connection, in Asterisk's order.

On SQLite there is one node: it always holds every lease and relays nothing.
"""

from hotline.cluster.lease import (
    DEFAULT_PBX,
    RENEW_S,
    TTL_S,
    BridgeLease,
    LeaseRow,
    default_node_id,
    lease_holders,
)
from hotline.cluster.relay import FeedRelay

__all__ = ["DEFAULT_PBX", "RENEW_S", "TTL_S", "BridgeLease", "FeedRelay", "LeaseRow",
           "default_node_id", "lease_holders"]
