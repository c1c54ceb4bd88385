"""
Private messages through proxy JIDs (requirements.md 1.17 PM-1..6, PJID-6,
PJID-9, VIS-6).

Plain Python over the channel logic: who may send a private message to
whom, where it goes, and under which full proxy JID the sender appears.
The real full JID behind a full proxy JID is kept in the store
(L{mixtwisted.interfaces.IClientStorage}) and never shown to anybody.
"""

from dataclasses import dataclass

from twisted.internet import defer

from mixtwisted.errors import Forbidden, NotAllowed
from mixtwisted.proxy import proxyJID


@dataclass
class PrivateDelivery:
    """
    Where one private message goes.

    @ivar sender: the sender's full proxy JID, the C{from} of the relayed
        message (PM-3 hops 2, 5, 7).
    @ivar recipient: the recipient's real JID, the C{to}: its bare JID for
        a message to its bare proxy JID (hop 2), the real full JID behind a
        full proxy JID otherwise (hops 5, 7).
    """
    sender: str
    recipient: str


class PrivateMessages:
    """
    Private message routing over a L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, channels):
        self.channels = channels
        self.store = channels.store

    @defer.inlineCallbacks
    def route(self, sender, channel, target, resource):
        """
        Check a private message and tell where it goes (PM-1, PM-5).

        @param sender: the real L{JID} it came from.
        @param channel: the channel record of the proxy JID addressed.
        @param target: the participant record of that proxy JID.
        @param resource: the resource of the full proxy JID addressed, or
            C{None} for the bare proxy JID.
        @raise Forbidden: the sender is not a participant.
        @raise NotAllowed: the channel or the recipient's preference
            forbids private messages.
        @raise ServiceUnavailable: the full proxy JID maps to no client.
        @return: a L{PrivateDelivery}.
        """
        name = channel.name
        participant = yield self.store.getParticipant(name, sender.userhost())
        if participant is None:
            raise Forbidden("You are not a participant of this channel")
        if not channel.config.get("Private Messages", True):
            raise NotAllowed("This channel carries no private messages")
        if target.prefs.get("Private Messages", "allow") == "block":
            raise NotAllowed("The recipient does not take private messages")
        if resource is None:
            recipient = target.jid
        else:
            recipient = yield self.channels.clientBehind(
                name, target, resource)
        own = yield self.channels.clientResource(
            name, participant.proxyId, sender.full())
        return PrivateDelivery(
            sender="%s/%s" % (proxyJID(participant.proxyId, name,
                                       self.channels.domain), own),
            recipient=recipient)
