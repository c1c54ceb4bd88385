"""
Nick registration with the service (NICK-8..14).

A registered nick belongs to one bare JID service-wide: no channel gives it
to anybody else (NICK-8, enforced in
L{mixtwisted.channels.ChannelService.assignNick}), and a nick another JID
uses in some channel cannot be registered (NICK-10).  Registering also
updates the registrant's nick in every channel it participates in where
the nick is free (NICK-13, AMB-22).
"""

from twisted.internet import defer

from mixtwisted.errors import Conflict, Forbidden
from mixtwisted.nicks import enforceNick, generateNick, nickKey
from mixtwisted.serial import exclusive


class NickRegistration:
    """
    Register nicks for the users of a L{mixtwisted.channels.ChannelService}.
    """

    def __init__(self, channels):
        self.channels = channels
        self.store = channels.store

    @exclusive("nick", scope="registered nick:")
    @defer.inlineCallbacks
    def register(self, requester, nick):
        """
        Register a nick for the bare JID of C{requester} (NICK-9).

        @param nick: the requested nick; C{None} or blank asks the service
            to assign one, a UUID (NICK-11).
        @return: the nick registered, after PRECIS enforcement (NICK-12).
        @raise Conflict: another JID registered it (NICK-10, NICK-14), or
            another JID uses it as a participant of some channel (NICK-8,
            NICK-10).
        @raise NotAcceptable: not a valid nick or too long.
        """
        if requester.host == self.channels.domain or not requester.user:
            raise Forbidden("Only user accounts may register nicks")
        bare = requester.userhost()
        if nick is None or not nick.strip():
            while True:
                nick = generateNick()
                key = nickKey(nick)
                if (yield self.store.nickHolder(key)) is None and \
                        not (yield self._usedByOther(bare, key)):
                    break
        else:
            nick = enforceNick(nick, self.channels.limits.maxNickLength)
            key = nickKey(nick)
            if (yield self._usedByOther(bare, key)):
                raise Conflict("Nick in use by another participant")
        # Replaces an earlier registration of the same JID (NICK-14).
        yield self.store.registerNick(bare, nick, key)
        yield self._updateChannels(bare, nick)
        return nick

    @defer.inlineCallbacks
    def _usedByOther(self, bare, key):
        """
        Tell whether a JID other than C{bare} uses a nick with comparison
        key C{key} as a participant of some channel: registering it would
        take from that participant the nick it holds (NICK-8, NICK-10).

        Walks every channel; fine for the channel counts of this service.
        """
        for channel in (yield self.store.listChannels()):
            holder = yield self.store.getParticipantByNick(channel.name, key)
            if holder is not None and holder.jid != bare:
                return True
        return False

    @defer.inlineCallbacks
    def _updateChannels(self, bare, nick):
        """
        Give the registrant the nick in each channel it participates in and
        where nobody else uses it, with notifications (NICK-13, AMB-22).
        """
        for channel in (yield self.store.listChannels()):
            participant = yield self.store.getParticipant(channel.name, bare)
            if participant is None:
                continue
            try:
                yield self.channels.assignNick(channel, participant, nick)
            except Conflict:
                pass
