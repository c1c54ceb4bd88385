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


class NickRegistration:
    """
    Register nicks for the users of a L{mixtwisted.channels.ChannelService}.

    Registering has two parts (D-46).  Checking that no other JID uses the
    nick in any channel and storing the registration run under the nick's
    key (L{mixtwisted.channels.ChannelService.nickExclusive}), the key
    under which a participant takes a nick too: a setnick of the same nick
    by somebody else comes wholly before (the registration is refused) or
    after (the setnick is refused).  Then, the nick key released, each
    channel the registrant participates in is updated as a change of that
    channel, under the channel's key, the participant read there: a leave
    or ban of that channel is never undone.
    """

    def __init__(self, channels):
        self.channels = channels
        self.store = channels.store

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
                if (yield self.channels.nickExclusive(
                        nickKey(nick), self._claim, bare, nick, True)):
                    break
        else:
            nick = enforceNick(nick, self.channels.limits.maxNickLength)
            yield self.channels.nickExclusive(
                nickKey(nick), self._claim, bare, nick, False)
        yield self._updateChannels(bare, nick)
        return nick

    @defer.inlineCallbacks
    def _claim(self, bare, nick, generated):
        """
        Under the nick's key: check the nick is free for C{bare} and
        register it, replacing an earlier registration of the same JID
        (NICK-14).

        @param generated: C{True} for a generated nick, which is given up
            (C{False} returned) rather than refused when taken.
        @return: C{True} once registered.
        @raise Conflict: a requested nick another JID holds or uses.
        """
        key = nickKey(nick)
        if generated and (yield self.store.nickHolder(key)) is not None:
            return False
        if (yield self._usedByOther(bare, key)):
            if generated:
                return False
            raise Conflict("Nick in use by another participant")
        yield self.store.registerNick(bare, nick, key)
        return True

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
        where nobody else uses it, with notifications (NICK-13, AMB-22):
        one channel at a time, each as a change of that channel (D-46).
        """
        for channel in (yield self.store.listChannels()):
            yield self.channels.serial.run(
                channel.name, self._updateChannel, channel.name, bare, nick)

    @defer.inlineCallbacks
    def _updateChannel(self, name, bare, nick):
        """
        Under the channel's key: give C{bare} the nick if it (still)
        participates and the nick is free there.
        """
        channel = yield self.store.getChannel(name)
        if channel is None:
            return
        participant = yield self.store.getParticipant(name, bare)
        if participant is None:
            return
        try:
            yield self.channels.assignNick(channel, participant, nick)
        except Conflict:
            pass
