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
        messages-node subscribers (RET-4).  For an owner or administrator
        who is no participant (ADM-11) C{nick} and C{proxyJID} are C{None}:
        the notice then comes from the channel alone, without C{<mix/>}.
    @ivar by: for the tombstone (RET-5): the retractor's bare proxy JID,
        or the channel's bare JID for a non-participant; never a real JID
        (VIS-6).
    @ivar time: when, as an XEP-0082 UTC date-time (RET-5).
    """
    original: ArchivedMessage
    reflection: Reflection
    by: str
    time: str


def mayRetractAny(channel, role):
    """
    Tell whether C{role} reaches C{Administrator Message Retraction Rights}
    (hierarchical), which lets it retract any message (RET-3), participant
    or not (ADM-11).
    """
    rights = channel.config.get("Administrator Message Retraction Rights",
                                cfg.OWNERS)
    return role >= _RIGHTS.get(rights, access.NOBODY)


def mayRetract(channel, role, isSender):
    """
    Tell whether a participant with C{role} may retract a message (RET-3):
    its own when C{User Message Retraction} is on, any message when its
    role reaches C{Administrator Message Retraction Rights}
    (hierarchical).
    """
    if isSender and channel.config.get("User Message Retraction", False):
        return True
    return mayRetractAny(channel, role)


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
        Check a retraction request and prepare its distribution.  Run it
        under the channel's key (L{sequence}): it issues an archive id and
        may give the retractor a nick.

        @param requester: the L{JID} asking: a participant (the notice then
            carries its C{<mix/>}), or an owner or administrator whose role
            reaches C{Administrator Message Retraction Rights}, who need
            not participate (ADM-11; the notice then has no C{<mix/>}).
        @param archiveId: the MAM id of the message to retract (RET-2).
        @param retractable: callable taking the archived stanza (a string)
            and telling whether it is a message that may still be
            retracted (not a tombstone, not a retraction notice).
        @raise Forbidden: a non-participant without the administrator
            right (checked before the id, so it learns nothing about the
            archive), or no right to retract this message.
        @raise NotFound: no such message in the messages archive, or
            already retracted (D-RET-2).
        @return: a L{Retraction}.
        """
        channel = yield self.channels.getChannel(name)
        bare = requester.userhost()
        participant = yield self.store.getParticipant(name, bare)
        role = yield self.channels.roleOf(channel, requester)
        if participant is None and not mayRetractAny(channel, role):
            raise Forbidden("You are not a participant of this channel")
        entry = None
        if archiveId and isArchiveId(archiveId):
            entry = yield self.store.getArchived(name, archiveId)
        if entry is None or entry.node != ns.NODE_MESSAGES or \
                not retractable(entry.xml):
            raise NotFound("No such message")
        if participant is None:
            reflection = yield self._channelReflection(name, bare)
            by = reflection.channelJID
        else:
            own = proxyJID(participant.proxyId, name, self.channels.domain)
            if not mayRetract(channel, role, entry.sender == own):
                raise Forbidden("You may not retract this message")
            reflection = yield self.channels.prepareMessage(
                requester, channel, participant)
            by = reflection.proxyJID
        return Retraction(original=entry, reflection=reflection, by=by,
                          time=formatDateTime(reflection.stamp))

    @defer.inlineCallbacks
    def _channelReflection(self, name, originator):
        """
        Prepare the distribution of a notice the channel sends on behalf of
        an owner or administrator who is no participant (ADM-11): no nick
        and no proxy JID (it has none), a new archive id, the messages-node
        subscribers and their revisions (the notice reaches each in its
        form, REV-13), and C{originator} (its real bare JID) for its own
        copy only.
        """
        recipients = yield self.store.getSubscribers(name, ns.NODE_MESSAGES)
        revisions = yield self.channels.revisionsOf(name)
        archiveId, stamp = self.channels.archiveIds.next()
        return Reflection(
            channel=name, channelJID=self.channels.channelJID(name),
            archiveId=archiveId, stamp=stamp, nick=None, proxyJID=None,
            recipients=recipients, originator=originator,
            revisions=revisions)

    def sequence(self, requester, name, archiveId, retractable, render,
                 archive):
        """
        Retract as a change of the channel, like a groupchat message
        (L{mixtwisted.channels.ChannelService.sequenceMessage}, D-46):
        under the channel's key the request is checked (L{prepare}), the
        notice's archive id issued, the tombstone written and the notice's
        archive write started, so that archive ids, archive order and
        reflection order follow arrival order, and a message is retracted
        once only.

        @param render: called with the L{Retraction}; returns C{(tombstone,
            notice)}, the serialized tombstone (RET-5) and notice (RET-4),
            or raises to refuse the retraction before anything is stored.
        @param archive: called with the notice's L{Reflection} and
            C{notice}; starts storing the notice and returns a Deferred
            firing once it is stored.
        @return: Deferred firing with C{(retraction, notice, stored)},
            C{stored} a Deferred firing once the notice is archived; it is
            not waited for here (the store commits entries in the order
            they were handed over, D-49).
        """
        return self.channels.serial.run(
            name, self._sequence, requester, name, archiveId, retractable,
            render, archive)

    @defer.inlineCallbacks
    def _sequence(self, requester, name, archiveId, retractable, render,
                  archive):
        retraction = yield self.prepare(requester, name, archiveId,
                                        retractable)
        tombstone, notice = render(retraction)
        yield self.tombstone(name, retraction, tombstone)
        return retraction, notice, archive(retraction.reflection, notice)

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
