-- mixtwisted pgsql store, schema version 2: MAM filters that stay cheap
-- on large archives (doc/decisions.md D-50).
--
-- Applied by mixtwisted.store.schema inside one transaction; no BEGIN or
-- COMMIT here.  On an existing archive this reads every entry once (to
-- fill the new archive_counts columns) and builds one index.

-- MAM "ids" (item ids of node archives, MAM-4): only entries that have an
-- item id, in archive order per item id.
CREATE INDEX archive_by_item ON archive (channel, node, item_id, archive_id)
    WHERE item_id IS NOT NULL;

-- MAM "start"/"end" become archive id ranges.  An archive id we issue
-- starts with the time it was issued, 16 upper-case hexadecimal digits of
-- microseconds, never earlier than the entry's stamp (ids are bumped past
-- collisions and clock steps back): skew = id microseconds - floor(stamp
-- in microseconds) >= 0.  Kept per (channel, node) by the statement that
-- inserts entries: the least and the greatest skew, and whether every
-- entry has such an id ("timed").  An entry with stamp >= start then has
-- an id >= start + skew_min, one with stamp <= end an id <= end +
-- skew_max, whatever the data; entries with other ids turn the bounds off
-- for their node.
ALTER TABLE archive_counts
    ADD COLUMN timed boolean NOT NULL DEFAULT false,
    ADD COLUMN skew_min bigint,
    ADD COLUMN skew_max bigint;

UPDATE archive_counts AS a
SET timed = s.timed, skew_min = s.skew_min, skew_max = s.skew_max
FROM (
    SELECT channel, node, bool_and(skew IS NOT NULL) AS timed,
           min(skew) AS skew_min, max(skew) AS skew_max
    FROM (
        SELECT channel, node,
               CASE WHEN archive_id ~ '^[0-7][0-9A-F]{15}'
                         AND stamp >= 0 AND stamp < 9.2e12
                    THEN ('x' || substr(archive_id, 1, 16))::bit(64)::bigint
                         - floor(stamp * 1000000)::bigint
               END AS skew
        FROM archive
    ) AS entries
    GROUP BY channel, node
) AS s
WHERE a.channel = s.channel AND a.node = s.node;
