"""
The PostgreSQL store (backend C{pgsql}), through txpostgres.

L{PgsqlStore} implements every storage interface of
L{mixtwisted.interfaces} with the semantics of the memory store
(L{mixtwisted.store.memory}), which is the reference: the contract tests
in C{tests/storetests.py} run on both.  One module per interface group
(C{channels}, C{participants}, C{subscriptions}, C{archive}, C{nodes} for
items and presence, C{identities} for registered nicks and client
resources, C{deliveries}), put together in C{store}; the plumbing is in
C{database} (pool, reconnection), C{cache}, C{groupcommit} and C{codec}.
The schema and its migrations are L{mixtwisted.store.schema}, applied by
C{start()}.

What it does, in short:

  - B{Queries.}  Every value is a psycopg2 parameter; SQL text is only
    ever put together from constant fragments.  A method is one
    statement when it can be (a data-modifying C{WITH} is one
    transaction); several statements run in one C{runInteraction}, which
    rolls back on failure, so no connection is left in an aborted
    transaction.  Text that is compared or ordered is C{COLLATE "C"}, so
    rows order as Python orders C{str}.

  - B{Check-then-write.}  Done by the database: C{INSERT ... ON CONFLICT
    DO NOTHING RETURNING} answers C{reserveProxyId} and
    C{reserveClientResource}; unique violations become
    L{mixtwisted.errors.Conflict} (channel names, participants' nick keys,
    registered nicks), foreign key violations L{mixtwisted.errors.NotFound}
    (a channel that does not exist).  Other errors are not caught.

  - B{Archive group commit.}  C{appendMessage} joins a
    L{groupcommit.GroupCommit}: the first entry is written at once; those
    that come while a batch is being written wait and go together in the
    next batch, one multi-row statement (C{unnest} of arrays) that also
    keeps the entry counters and the greatest id.  Each Deferred fires
    after its batch committed, in call order; a batch that fails fails
    every Deferred of it.

  - B{Counts.}  C{archive_counts} holds the exact number of entries per
    (channel, node), changed in the statement that inserts entries and
    deleted with the channel; MAM queries without C{start}, C{end},
    C{with} or C{ids} read it instead of counting.  Filtered queries count
    up to C{paging.COUNT_LIMIT} entries over the page's index range (no
    count beyond it); C{start}/C{end} become archive-id ranges (skew
    bounds, doc/decisions.md D-50).  A page is one index range scan of at
    most C{maximum + 1} rows (first, last and C{after} pages alike), in
    the same statement as the count.

  - B{Read cache.}  C{getChannel}, C{getParticipant} and C{getSubscribers},
    asked for every message, are answered from a bounded LRU
    L{cache.ReadCache} (C{cacheSize} entries) as already-fired Deferreds
    with copies of the records.  The store's own writes keep it coherent:
    they drop the entries they touch when they start and when they end,
    and a read that raced a write does not fill the cache (per-key
    generations).  B{This assumes this process is the only writer of its
    database}: a change made by another process (or by hand) to a
    channel, a participant or a subscription is not seen until the entry
    is evicted or the service restarts.  Run one mixtwisted per database;
    C{mixtwisted-migrate} may run beside a service of the same version;
    an upgrade stops the old service first (doc/decisions.md D-48).

  - B{Connections.}  A txpostgres pool of C{poolSize} connections; a
    connection that the server or the network drops is reconnected (at
    once, then with back-off), and operations given to it meanwhile fail.
    C{stop()} waits for the work under way, its callers' callbacks
    included (at most C{stopTimeout}), then closes every connection.
"""

from mixtwisted.store.pgsql.store import PgsqlStore

__all__ = ["PgsqlStore"]
