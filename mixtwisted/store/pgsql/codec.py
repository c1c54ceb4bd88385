"""
Records to query parameters and rows back to records.

Configuration, information and preferences are JSONB objects; JSON has
no tuples, so the lists read back become tuples again (the record types
hold multi-valued fields as tuples).  Floats are C{double precision}
columns, which give back exactly the float stored.
"""

from psycopg2.extras import Json

from mixtwisted.records import (
    ArchivedMessage, ChannelRecord, ParticipantRecord, PresenceRecord)


def _tuples(value):
    """
    Turn the lists of a decoded JSON value into tuples.
    """
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _fields(document):
    return {name: _tuples(value) for name, value in (document or {}).items()}


#: The columns of L{channelParams} and L{channelFromRow}, in order.
CHANNEL_COLUMNS = ("name, config, info, config_id, info_id, adhoc, created, "
                   "allowed, banned, invitation_digests, "
                   "invitation_expiries")


def channelParams(record):
    """
    @return: the values of L{CHANNEL_COLUMNS} for C{record}.
    """
    return (record.name, Json(record.config), Json(record.info),
            record.configId, record.infoId, bool(record.adhoc),
            float(record.created), list(record.allowed),
            list(record.banned),
            [digest for digest, _ in record.usedInvitations],
            [float(expiry) for _, expiry in record.usedInvitations])


def channelFromRow(row):
    (name, config, info, configId, infoId, adhoc, created, allowed, banned,
     digests, expiries) = row
    return ChannelRecord(
        name=name, config=_fields(config), info=_fields(info),
        configId=configId, infoId=infoId, adhoc=adhoc, created=created,
        allowed=tuple(allowed), banned=tuple(banned),
        usedInvitations=tuple(zip(digests, expiries)))


#: The columns of L{participantFromRow}, in order.
PARTICIPANT_COLUMNS = ("channel, jid, proxy_id, nick, nick_key, prefs, joined, "
                       "revision")


def participantParams(record):
    return (record.channel, record.jid, record.proxyId, record.nick,
            record.nickKey, Json(record.prefs), float(record.joined),
            record.revision)


def participantFromRow(row):
    channel, jid, proxyId, nick, nickKey, prefs, joined, revision = row
    return ParticipantRecord(
        channel=channel, jid=jid, proxyId=proxyId, nick=nick,
        nickKey=nickKey, prefs=dict(prefs or {}), joined=joined,
        revision=revision)


#: The columns of L{messageFromRow}, in order.
MESSAGE_COLUMNS = "archive_id, stamp, node, sender, xml, item_id"


def messageFromRow(row):
    archiveId, stamp, node, sender, xml, itemId = row
    return ArchivedMessage(archiveId=archiveId, stamp=stamp, node=node,
                           sender=sender, xml=xml, itemId=itemId)


#: The columns of L{presenceFromRow}, in order.
PRESENCE_COLUMNS = "channel, proxy_id, resource, jid, xml, updated, confirmed"


def presenceParams(record):
    return (record.channel, record.proxyId, record.resource, record.jid,
            record.xml, float(record.updated), bool(record.confirmed))


def presenceFromRow(row):
    channel, proxyId, resource, jid, xml, updated, confirmed = row
    return PresenceRecord(channel=channel, proxyId=proxyId,
                          resource=resource, jid=jid, xml=xml,
                          updated=updated, confirmed=confirmed)
