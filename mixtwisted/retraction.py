"""
Message retraction (requirements.md 1.15 RET-1..5, AMB-38).

Plain Python over the channel logic and the archive: who may retract
which archived message, and the values the protocol layer needs to leave a
tombstone (RET-5) and to distribute the retraction like a message (RET-4).
The stanzas themselves are built by L{mixtwisted.handlers.messages}.
"""

from dataclasses import dataclass

from twisted.internet import defer

from mixtwisted import access
from mixtwisted import config as cfg
from mixtwisted import namespaces as ns
from mixtwisted.channels import Reflection
from mixtwisted.errors import Forbidden, NotFound
from mixtwisted.ids import formatDateTime, isArchiveId
from mixtwisted.proxy import proxyJID
from mixtwisted.records import ArchivedMessage

#: The least role each value of C{Administrator Message Retraction Rights}
#: lets retract any message; operators have owner rights (AMB-8) and
#: C{nobody} is reached by no role.
_RIGHTS = {
    cfg.NOBODY: access.NOBODY,
    cfg.ADMINS: access.ADMIN,
    cfg.OWNERS: access.OWNER,
}


@dataclass
class Retraction:
    """
    An accepted retraction, before anything is stored or sent.

    @ivar original: the archived entry being retracted.
    @ivar reflection: the distribution of the retraction notice: a new
        archive id, the retractor's nick and bare proxy JID, the
        messages-node subscribers (RET-4).
    @ivar by: the retractor's bare proxy JID, for the tombstone (RET-5,
        VIS-6: never the real JID).
    @ivar time: when, as an XEP-0082 UTC date-time (RET-5).
    """
    original: ArchivedMessage
    reflection: Reflection
    by: str
    time: str


def mayRetract(channel, role, isSender):
    """
    Tell whether a participant with C{role} may retract a message (RET-3):
    its own when C{User Message Retraction} is on, any message when its
    role reaches C{Administrator Message Retraction Rights}
    (hierarchical).
    """
    if isSender and channel.config.get("User Message Retraction", False):
        return True
    rights = channel.config.get("Administrator Message Retraction Rights",
                                cfg.OWNERS)
    return role >= _RIGHTS.get(rights, access.NOBODY)


class Retractions:
    """
    Retraction over a L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, channels):
        self.channels = channels
        self.store = channels.store

    @defer.inlineCallbacks
    def prepare(self, requester, name, archiveId, retractable):
        """
        Check a retraction request and prepare its distribution.

        @param requester: the L{JID} asking; must be a participant, since
            the retraction is distributed with its C{<mix/>}.
        @param archiveId: the MAM id of the message to retract (RET-2).
        @param retractable: callable taking the archived stanza (a string)
            and telling whether it is a message that may still be
            retracted (not a tombstone, not a retraction notice).
        @raise Forbidden: not a participant, or no right to retract it.
        @raise NotFound: no such message in the messages archive, or
            already retracted (D-RET-2).
        @return: a L{Retraction}.
        """
        channel, participant = yield self.channels.requireParticipant(
            name, requester)
        entry = None
        if archiveId and isArchiveId(archiveId):
            entry = yield self.store.getArchived(name, archiveId)
        if entry is None or entry.node != ns.NODE_MESSAGES or \
                not retractable(entry.xml):
            raise NotFound("No such message")
        own = proxyJID(participant.proxyId, name, self.channels.domain)
        role = yield self.channels.roleOf(channel, requester)
        if not mayRetract(channel, role, entry.sender == own):
            raise Forbidden("You may not retract this message")
        reflection = yield self.channels.prepareMessage(requester, name)
        return Retraction(original=entry, reflection=reflection,
                          by=reflection.proxyJID,
                          time=formatDateTime(reflection.stamp))

    def tombstone(self, name, retraction, xml):
        """
        Replace the archived original by its tombstone (RET-5).

        @raise NotFound: the entry went away meanwhile.
        """
        d = self.store.replaceArchived(
            name, retraction.original.archiveId, xml)

        def check(existed):
            if not existed:
                raise NotFound("No such message")
        return d.addCallback(check)
