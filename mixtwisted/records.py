"""
Plain records the stores keep and the channel logic works on.

No XML and no sockets here: a record is data.  Stores hand out copies
(C{copy()}) so that a caller changing a record changes nothing until it
saves it back.
"""

import sys
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

from mixtwisted.namespaces import DEFAULT_REVISION

#: For the records a store keeps one of per participant, archive entry or
#: online client: without a per-instance C{__dict__} each takes about 100
#: bytes less (Python 3.10 and later; on 3.9 they are plain dataclasses).
_MANY = {"slots": True} if sys.version_info >= (3, 10) else {}


@dataclass
class ChannelRecord:
    """
    A channel.

    @ivar name: the localpart of the channel JID.
    @ivar config: configuration fields, canonical var name to value (a
        C{str}, C{bool} or C{tuple} of C{str} for multi-valued fields).
    @ivar info: information node fields, canonical var name to value.
    @ivar configId: item id (date-time) of the configuration item.
    @ivar infoId: item id (date-time) of the information item.
    @ivar adhoc: created without a name (CRE-7): never listed.
    @ivar created: creation time, seconds since the epoch.
    """

    name: str
    config: Dict[str, object] = field(default_factory=dict)
    info: Dict[str, object] = field(default_factory=dict)
    configId: str = ""
    infoId: str = ""
    adhoc: bool = False
    created: float = 0.0
    #: items of the allowed node: bare JIDs and domains (NODE-10).
    allowed: Tuple[str, ...] = ()
    #: items of the banned node: bare JIDs and domains (NODE-11).
    banned: Tuple[str, ...] = ()
    #: invitations already used: (token digest, expiry) pairs, so that a
    #: token admits once (INV-4).
    usedInvitations: Tuple[Tuple[str, float], ...] = ()

    def copy(self):
        return replace(self, config=dict(self.config), info=dict(self.info))


@dataclass(**_MANY)
class ParticipantRecord:
    """
    A participant of a channel: a real bare JID with its proxy identifier.

    @ivar jid: the real bare JID, as a string.
    @ivar proxyId: the identifier of the proxy JID
        (C{<proxyId>#<channel>@<domain>}).
    @ivar nick: the nick as shown, or C{None}.
    @ivar nickKey: the comparison key of the nick (L{mixtwisted.nicks}).
    @ivar prefs: user preferences, canonical name to value.
    @ivar revision: the MIX namespace of the participant's last join
        (C{urn:xmpp:mix:1} or C{urn:xmpp:mix:core:1}, REV-2): what the
        channel sends it is rendered in that revision.
    """

    channel: str
    jid: str
    proxyId: str
    nick: Optional[str] = None
    nickKey: Optional[str] = None
    prefs: Dict[str, str] = field(default_factory=dict)
    joined: float = 0.0
    revision: str = DEFAULT_REVISION

    def copy(self):
        return replace(self, prefs=dict(self.prefs))


@dataclass(**_MANY)
class ArchivedMessage:
    """
    One entry of a channel archive (MAM-1, MAM-7).

    @ivar archiveId: the archive id, also the id of every reflected copy.
    @ivar stamp: when it was archived, seconds since the epoch.
    @ivar node: the node archived (messages, or another node, MAM-4).
    @ivar sender: bare proxy JID of the sender (the MAM C{with} filter), or
        C{None} for entries the service made itself.
    @ivar xml: the archived stanza, serialized, without C{to} (MSG-4).
    @ivar itemId: for node archives, the id of the item changed (MAM-4).
    """

    archiveId: str
    stamp: float
    node: str
    sender: Optional[str]
    xml: str
    itemId: Optional[str] = None


@dataclass
class ArchiveQuery:
    """
    A MAM query, already parsed and checked.

    @ivar start, end: time bounds in seconds since the epoch, inclusive.
    @ivar with_: only entries whose sender is this bare proxy JID.
    @ivar after, before: RSM bounds, archive ids (exclusive).  C{before}
        may be C{""} to ask for the last page.
    @ivar maximum: page size.
    @ivar ids: only entries for these item ids (node archives, MAM-4).
    """

    node: str
    start: Optional[float] = None
    end: Optional[float] = None
    with_: Optional[str] = None
    after: Optional[str] = None
    before: Optional[str] = None
    maximum: int = 50
    ids: Optional[Tuple[str, ...]] = None


@dataclass
class ArchivePage:
    """
    The answer to an L{ArchiveQuery}.

    @ivar messages: the entries, oldest first.
    @ivar complete: whether the page reaches the end of the result set in
        the direction of the query.
    @ivar count: how many entries match the filters in all; C{None} when
        more than L{mixtwisted.store.paging.COUNT_LIMIT} entries match a
        query with filters (not counted: XEP-0059 lets the count be left
        out).
    """

    messages: List[ArchivedMessage]
    complete: bool
    count: Optional[int]


@dataclass(**_MANY)
class PresenceRecord:
    """
    One item of a channel's presence node: an online client (NODE-8).

    @ivar proxyId, resource: the full proxy JID is
        C{<proxyId>#<channel>@<domain>/<resource>}.
    @ivar jid: the client's real full JID.
    @ivar xml: the item payload, a serialized C{<presence
        xmlns='jabber:client'/>} as distributed (X403-2).
    @ivar updated: when the client last sent presence.
    @ivar confirmed: C{False} for items kept from before a restart that
        the client has not refreshed yet (PRES-8, AMB-47).
    """

    channel: str
    proxyId: str
    resource: str
    jid: str
    xml: str
    updated: float = 0.0
    confirmed: bool = True
