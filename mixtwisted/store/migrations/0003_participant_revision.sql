-- mixtwisted pgsql store, schema version 3: the protocol revision each
-- participant joined with (doc/protocol-revisions.md, REV-2).
--
-- Applied by mixtwisted.store.schema inside one transaction; no BEGIN or
-- COMMIT here.  Participants stored before this version joined with
-- urn:xmpp:mix:1, the only revision served then: the default says so.
-- Cheap on any table size: a column with a constant default is added
-- without rewriting the table.

ALTER TABLE participants
    ADD COLUMN revision text COLLATE "C" NOT NULL
        DEFAULT 'urn:xmpp:mix:1'
        CHECK (revision IN ('urn:xmpp:mix:1', 'urn:xmpp:mix:core:1'));

-- getRevisions reads the participants of a channel not on the default
-- revision: usually none, so the index holds only the few that are.
CREATE INDEX participants_revision ON participants (channel, jid)
    WHERE revision <> 'urn:xmpp:mix:1';
