"""
The channel logic: create, destroy, join, leave, subscriptions, nicks,
messages, and who may read what.

This is plain Python over the storage interfaces: it takes JIDs and values,
returns values or raises L{mixtwisted.errors.MIXError}, and tells an
L{mixtwisted.interfaces.INotifier} what to distribute.  The protocol layer
(L{mixtwisted.handlers}) parses and builds the stanzas around it.
"""

import secrets
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import InvalidFormat, JID

from mixtwisted import access
from mixtwisted import config as cfg
from mixtwisted import namespaces as ns
from mixtwisted import nodes as views
from mixtwisted import prefs as userprefs
from mixtwisted.errors import (
    BadRequest, Conflict, Forbidden, NotAcceptable, NotAuthorized, NotFound,
    ServiceUnavailable, UnexpectedRequest)
from mixtwisted.ids import ArchiveIdGenerator, ItemIdClock
from mixtwisted.invitations import Invitations
from mixtwisted.nicks import enforceNick, generateNick, nickKey
from mixtwisted.proxy import (
    generateProxyId, generateResource, proxyJID, splitProxyLocalpart)
from mixtwisted.records import (
    ArchivedMessage, ChannelRecord, ParticipantRecord)
from mixtwisted.serial import KeyedSerializer, exclusive

#: Nodes whose changes are archived beside the messages (MAM-4): the
#: jidmap, so that the real JID behind a proxy JID that is no longer current
#: can be looked up (VIS-7), and the information and configuration history
#: (MAM-8).
ARCHIVED_NODES = frozenset((ns.NODE_JIDMAP, ns.NODE_INFO, ns.NODE_CONFIG))

#: Prefix of the serializer keys of nicks (L{ChannelService.nickExclusive}):
#: a colon never occurs in a channel name (a JID localpart), so these keys
#: never meet a channel's.
NICK_SCOPE = "registered nick:"


@dataclass
class JoinResult:
    """
    @ivar proxyJID: the bare proxy JID of the participant (JOIN-2).
    @ivar nodes: nodes subscribed, in request order.
    @ivar prefs: all preferences, when the join carried a form (JOIN-11).
    @ivar proxyId: the proxy identifier, MIX-CORE's stable participant id
        (REV-3).
    @ivar nick: the participant's nick after the join, or C{None}.
    """
    proxyJID: str
    nodes: List[str]
    prefs: Optional[dict] = None
    proxyId: str = ""
    nick: Optional[str] = None


@dataclass
class Reflection:
    """
    What the protocol layer needs to reflect one groupchat message.

    @ivar recipients: bare JIDs subscribed to the messages node.
    @ivar originator: the sender's bare JID (gets its copy with
        C{<submission-id/>} even when not subscribed, AMB-53).
    @ivar proxyId: the sender's proxy identifier, its stable participant
        id (REV-3).
    @ivar visibleJID: the sender's real bare JID when the other
        participants may see it (VIS-3), else C{None}.
    @ivar revisions: real bare JID to protocol revision of the
        participants not on the default revision (REV-2, REV-12): the
        store's dict, not to be changed.
    """
    channel: str
    channelJID: str
    archiveId: str
    stamp: float
    nick: str
    proxyJID: str
    recipients: List[str]
    originator: str
    proxyId: str = ""
    visibleJID: Optional[str] = None
    revisions: Dict[str, str] = field(default_factory=dict)


class ChannelService:
    """
    The MIX channels of one service domain.

    @param store: an L{mixtwisted.interfaces.IMIXStorage} provider.
    @param settings: the L{mixtwisted.settings.Settings}.
    @param clock: the reactor, or a C{Clock} in tests.
    @param notifier: an L{mixtwisted.interfaces.INotifier} provider; set it
        before handling requests.
    """

    def __init__(self, store, settings, clock, notifier=None):
        self.store = store
        self.settings = settings
        self.domain = settings.domain
        self.clock = clock
        self.notifier = notifier
        self.operators = frozenset(settings.admins)
        self.limits = settings.limits
        self.archiveIds = ArchiveIdGenerator(clock)
        self.itemIds = ItemIdClock(clock)
        #: Changes of one channel run one at a time (L{exclusive}).
        self.serial = KeyedSerializer()
        #: Invitations: issuing, checking and consuming them (INV-1..7).
        self.invitations = Invitations(self)
        #: User preferences: the template, updates and storage (PREF-1..9).
        self.preferences = userprefs.Preferences(self)
        #: Callables run (and waited for) at start-up, after the channel
        #: logic's own start (e.g. End of Life timers).
        self.startHooks = []
        #: Callables run at a graceful stop, once the work under way has
        #: finished and before the connection closes: what still waits
        #: for a peer answers its requester now (D-60).
        self.stopHooks = []
        #: Callables run with a channel name when a channel is removed.
        self.removalHooks = []
        #: Callables run (and waited for) with the record of a new channel.
        self.creationHooks = []
        #: Callables run (and waited for) with a channel name before the
        #: channel is removed, while its state is still there (CRE-10).
        self.destructionHooks = []
        #: Callables run (and waited for) with C{(channel, bare JID,
        #: participant or None)} after a bare JID was taken out of a
        #: channel: leave, ban, visibility eviction (JOIN-20).
        self.leaveHooks = []
        #: Callables run (and waited for) with C{(channel, participant)}
        #: after a participant's nick or preferences changed (NICK-6).
        self.participantHooks = []
        #: Callables run (and waited for) with C{(channel, bare JID,
        #: nodes)} after a join, update-subscription or PubSub subscribe
        #: newly subscribed C{nodes} (JOIN-10, PRES-7): nodes the bare JID
        #: was subscribed to already are not passed again.
        self.subscriptionHooks = []
        #: Callables run (and waited for) with C{(old, updated)} channel
        #: records after a change of configuration, information or lists,
        #: before subscriptions nobody may keep are pruned (a node taken
        #: out of Nodes Present, ADM-5).
        self.configHooks = []
        #: Node name -> callable taking the channel record and the
        #: reader's role and returning (a Deferred firing with) the node's
        #: current items as that role may see them, for nodes another area
        #: keeps (the presence node, CHAN-7, X403-3).
        self.nodeReaders = {}

    @defer.inlineCallbacks
    def start(self):
        """
        Resume archive id generation after the greatest stored id, then
        run the start hooks.
        """
        last = yield self.store.lastArchiveId()
        if last:
            self.archiveIds.observe(last)
        for hook in self.startHooks:
            yield hook()

    def channelJID(self, name):
        return "%s@%s" % (name, self.domain)

    # Looking things up

    @defer.inlineCallbacks
    def getChannel(self, name):
        """
        Return the channel record, or fail with L{NotFound}.
        """
        channel = yield self.store.getChannel(name) if name else None
        if channel is None:
            raise NotFound("No such channel")
        return channel

    @defer.inlineCallbacks
    def roleOf(self, channel, requester):
        """
        Work out the role of the bare JID of C{requester} (a L{JID}).
        """
        bare = requester.userhost()
        participant = yield self.store.getParticipant(channel.name, bare)
        return access.roleOf(channel, bare, requester.host,
                             participant is not None, self.operators)

    @defer.inlineCallbacks
    def resolveProxy(self, localpart):
        """
        Tell what a localpart on the MIX domain names (PJID-5, AMB-30): an
        existing channel first, else C{<id>#<channel>} looked up in that
        channel.

        @return: C{(channel, participant)}; C{participant} is C{None} for a
            channel JID.
        @raise NotFound: when it names neither.
        """
        channel = yield self.store.getChannel(localpart)
        if channel is not None:
            return channel, None
        parts = splitProxyLocalpart(localpart)
        if parts is not None:
            proxyId, name = parts
            channel = yield self.store.getChannel(name)
            if channel is not None:
                participant = yield self.store.getParticipantByProxy(
                    name, proxyId)
                if participant is not None:
                    return channel, participant
        raise NotFound("No such channel or participant")

    @defer.inlineCallbacks
    def looksLikeProxy(self, localpart):
        """
        Tell whether C{localpart} has the shape of a proxy JID of an
        existing channel (C{<id>#<channel>}), whether or not the id was
        ever issued: such JIDs are all answered alike, so that nobody can
        tell which proxy JIDs exist.
        """
        parts = splitProxyLocalpart(localpart)
        if parts is None:
            return False
        return (yield self.store.getChannel(parts[1])) is not None

    # Service level: discovery and creation

    def mayCreate(self, requester):
        return access.mayCreate(requester.userhost(), requester.host,
                                self.settings.creators, self.operators)

    @defer.inlineCallbacks
    def mayDiscover(self, channel, requester):
        """
        Tell whether C{requester} may see the channel in listings and disco
        (DISCO-7, CHAN-1, AMB-52): the Allowed set and above; an ad hoc
        channel only to its participants and owners.
        """
        role = yield self.roleOf(channel, requester)
        if channel.adhoc:
            return role >= access.PARTICIPANT
        return role >= access.ALLOWED

    @defer.inlineCallbacks
    def listChannels(self, requester):
        """
        Return the names of the channels C{requester} may discover.
        """
        if not self.settings.searchable:
            return []
        names = []
        for channel in (yield self.store.listChannels()):
            if channel.adhoc:
                continue
            if (yield self.mayDiscover(channel, requester)):
                names.append(channel.name)
        return sorted(names)

    @defer.inlineCallbacks
    def discoverChannel(self, name, requester):
        """
        Return the channel for a disco query, checking the requester may see
        it (CHAN-4: unknown → C{item-not-found}, hidden →
        C{not-authorized}).
        """
        channel = yield self.getChannel(name)
        if not (yield self.mayDiscover(channel, requester)):
            raise NotAuthorized()
        return channel

    @defer.inlineCallbacks
    def discoverNodes(self, name, requester):
        """
        Return the nodes of a channel that exist and that C{requester} may
        subscribe to (CHAN-3).
        """
        channel = yield self.discoverChannel(name, requester)
        role = yield self.roleOf(channel, requester)
        return [node for node in access.presentNodes(channel)
                if access.mayRead(channel, node, role)]

    def prepareChannelName(self, name):
        """
        Return the JID-prepared form of a channel name as a client wrote it
        (the one spelling a channel is stored under, D-5): a localpart, or
        a bare JID on this service's domain (CRE-2, AMB-29).

        @raise BadRequest: for a name that is no valid localpart, or a JID
            on another domain.
        """
        try:
            if "@" in name:
                jid = JID(name)
                if jid.host != self.domain or jid.resource is not None:
                    raise BadRequest("Channel on another domain")
            else:
                jid = JID(tuple=(name, self.domain, None))
        except (InvalidFormat, UnicodeError, ValueError):
            raise BadRequest("Not a valid channel name")
        if not jid.user:
            raise BadRequest("Empty channel name")
        return jid.user

    def _checkChannelName(self, name):
        name = self.prepareChannelName(name)
        limit = self.limits.maxChannelNameLength
        if len(name) > limit:
            raise NotAcceptable("Channel name longer than %d" % (limit,))
        return name

    @exclusive("name")
    @defer.inlineCallbacks
    def create(self, requester, name, submitted=None):
        """
        Create a channel (CRE-1..8).

        @param requester: the creating L{JID}.
        @param name: the requested localpart, or C{None} for an ad hoc
            channel (CRE-7).
        @param submitted: C{(var, [values])} pairs of a configuration form.
        @return: the channel name.
        """
        if not self.mayCreate(requester):
            raise Forbidden("You may not create channels here")
        adhoc = name is None
        if adhoc:
            name = yield self._freeAdhocName()
        else:
            name = self._checkChannelName(name)
            parts = splitProxyLocalpart(name)
            if parts is not None and \
                    (yield self.store.getChannel(parts[1])) is not None:
                raise BadRequest("Name would clash with a proxy JID")
        creator = requester.userhost()
        config, info = cfg.defaultConfig(creator), cfg.defaultInfo()
        if submitted:
            config, info = cfg.applyForm(config, info, submitted)
            cfg.checkEndOfLife(config, self.clock.seconds())
        itemId = self.itemIds.next()
        config["Last Change Made By"] = creator
        record = ChannelRecord(name=name, config=config, info=info,
                               configId=itemId, infoId=itemId, adhoc=adhoc,
                               created=self.clock.seconds())
        if (yield self.store.getChannel(name)) is not None:
            raise Conflict("Channel exists")
        yield self.store.createChannel(record)
        for hook in self.creationHooks:
            yield hook(record)
        return name

    @defer.inlineCallbacks
    def _freeAdhocName(self):
        while True:
            name = secrets.token_hex(5)
            if (yield self.store.getChannel(name)) is None:
                return name

    @exclusive("name")
    @defer.inlineCallbacks
    def destroy(self, requester, name):
        """
        Destroy a channel: owners and service operators only (CRE-9,
        CRE-10).
        """
        channel = yield self.getChannel(name)
        role = yield self.roleOf(channel, requester)
        if role < access.OWNER:
            raise Forbidden("Only owners may destroy a channel")
        yield self.removeChannel(name)

    @defer.inlineCallbacks
    def removeChannel(self, name):
        """
        Remove a channel and everything in it (CRE-10); used by destroy and
        by the End of Life timer (CRE-11).  Proxy identifiers stay
        reserved.

        @return: C{True} if the channel existed.
        """
        for hook in self.destructionHooks:
            yield hook(name)
        existed = yield self.store.deleteChannel(name)
        for hook in self.removalHooks:
            hook(name)
        return existed

    # Participation

    def _subscribable(self, channel, nodes, role):
        """
        Return the canonical names of the requested nodes that C{role} may
        subscribe to, in request order.  Those that fail are left out
        (JOIN-4); when some were requested and none succeeds, fail with the
        reason of the first, listing the requested nodes that failed for
        the same reason (JOIN-5): L{NotFound} for absent nodes,
        L{Forbidden} for missing rights.
        """
        present = access.presentNodes(channel)
        subscribed, failures = [], []
        for requested in nodes:
            node = ns.canonicalNode(requested)
            if node not in present:
                failures.append((requested, NotFound))
            elif not access.mayRead(channel, node, role):
                failures.append((requested, Forbidden))
            elif node not in subscribed:
                subscribed.append(node)
        if nodes and not subscribed:
            error = failures[0][1]
            raise error("No node could be subscribed",
                        payload=[n for n, e in failures if e is error])
        return subscribed

    @exclusive("name")
    @defer.inlineCallbacks
    def join(self, requester, name, nodes, submittedPrefs=None,
             invitation=None, revision=ns.DEFAULT_REVISION, nick=None):
        """
        Join a channel (JOIN-1..15).

        @param requester: the L{JID} the join came from; the participant is
            its bare JID.
        @param nodes: the node names requested, as received.
        @param submittedPrefs: C{(var, [values])} of a preferences form, or
            C{None} when the join carried none.
        @param invitation: the L{mixtwisted.invitations.Invitation} the
            join carried (JOIN-12, INV-4), fields as received, or C{None}.
        @param revision: the MIX namespace the join was sent in; kept as
            the participant's revision (REV-2).
        @param nick: the nick the join asked for, or C{None} (REV-5): the
            join succeeds only with it, and changes nothing when it is
            refused.  A MIX-CORE join without one gets a generated nick,
            as the join result must report one.
        """
        if nick is not None:
            nick = enforceNick(nick, self.limits.maxNickLength)
        channel = yield self.getChannel(name)
        bare = requester.userhost()
        if requester.host == self.domain or not requester.user:
            raise Forbidden("Only user accounts may join")
        role = yield self.roleOf(channel, requester)
        # The (digest, expiry) of a valid, unused invitation, else None.
        invited = None
        if invitation is not None:
            invited = yield self.invitations.validInvitation(
                channel, bare, invitation)
        if role < access.ALLOWED or (
                channel.adhoc and role < access.PARTICIPANT and
                not access.listedAllowed(channel, bare, requester.host)):
            # An invitation lets in who is not Allowed (INV-4, AMB-52), but
            # never a banned JID (INV-6); an invalid (or already used)
            # one is refused.
            if invited is None or \
                    self.invitations.isBanned(channel, bare, requester.host):
                raise Forbidden("You are not allowed to join this channel")

        subscribed = self._subscribable(
            channel, nodes, max(role, access.PARTICIPANT))

        participant = yield self.store.getParticipant(name, bare)
        prefs = self.preferences.currentPrefs(participant)
        if submittedPrefs is not None:
            prefs = userprefs.applyPrefs(prefs, submittedPrefs)
        prefs = userprefs.checkPrefs(channel, prefs)

        # Only nodes not subscribed before bring their current items
        # (PRES-7: a re-join that already had them sends nothing again).
        before = yield self.store.getSubscriptions(name, bare)
        if participant is None:
            proxyId = yield self._proxyIdFor(name, bare)
            participant = ParticipantRecord(
                channel=name, jid=bare, proxyId=proxyId, prefs=prefs,
                joined=self.clock.seconds(), revision=revision)
            if nick is None:
                yield self.store.saveParticipant(participant)
            else:
                # Checked and saved with the nick, or not saved at all.
                yield self._claimNick(channel, participant, nick)
            yield self.store.setSubscriptions(name, bare, subscribed)
            joined = True
        else:
            renamed = nick is not None and participant.nick != nick
            if renamed:
                # First, so that a refused nick changes nothing.
                yield self._claimNick(channel, participant, nick)
            participant.revision = revision
            yield self.preferences.savePrefs(channel, participant, prefs)
            yield self.store.setSubscriptions(name, bare, subscribed)
            joined = False

        if invited is not None:
            # Only once the participant is saved: consume the invitation
            # and add the invitee to the allowed node (INV-3, INV-5).
            channel = yield self.invitations.consumeInvitation(
                channel, bare, requester.host, invited)
        if joined:
            yield self._notifyJoined(channel, participant)
        if (joined and participant.nick is not None) or \
                (not joined and renamed):
            # The urn:xmpp:mix:1 join notification carries no nick
            # (JOIN-7): the nick follows as a change of the participant
            # (NICK-6).  MIX-CORE subscribers had it in the join
            # notification already (REV-8): they get the follow-up only
            # for a rename.
            yield self.notify(channel, ns.NODE_PARTICIPANTS, [
                views.participantItem(channel, participant, self.domain)],
                changed=views.NICK_AFTER_JOIN if joined else None)
            yield self.participantChanged(channel, participant)
        if participant.nick is None and revision != ns.NS_MIX:
            yield self._assignGeneratedNick(channel, participant)
        yield self._subscribed(channel, bare,
                               [n for n in subscribed if n not in before])

        return JoinResult(
            proxyJID(participant.proxyId, name, self.domain), subscribed,
            prefs if submittedPrefs is not None else None,
            participant.proxyId, participant.nick)

    @defer.inlineCallbacks
    def _subscribed(self, channel, bare, nodes):
        if nodes:
            for hook in self.subscriptionHooks:
                yield hook(channel, bare, nodes)

    @defer.inlineCallbacks
    def participantChanged(self, channel, participant):
        for hook in self.participantHooks:
            yield hook(channel, participant)

    def proxyIdFor(self, name, bare):
        """
        Return (a Deferred firing with) the proxy identifier of C{bare} in
        channel C{name}, reserving a fresh one if it never had one.  Also
        used for non-participants registering presence under C{Open
        Presence} (PJID-9, AMB-43): reserving binds the identifier to the
        bare JID for good but makes nobody a participant.
        """
        return self._proxyIdFor(name, bare)

    @defer.inlineCallbacks
    def clientResource(self, name, proxyId, realFullJID):
        """
        Return the resource of a client's full proxy JID in channel
        C{name}: the one it was given before (stable per real full JID, so
        it never changes while the client is in the presence node, PJID-6),
        or a fresh random one reserved for good (PJID-7).  Presence,
        private messages and relays share this one mapping.
        """
        resource = yield self.store.clientResource(name, realFullJID)
        while resource is None:
            candidate = generateResource()
            if (yield self.store.reserveClientResource(
                    name, realFullJID, proxyId, candidate)):
                resource = candidate
        return resource

    @defer.inlineCallbacks
    def clientBehind(self, name, participant, resource):
        """
        Return the real full JID behind the full proxy JID of
        C{participant} with C{resource} (PJID-6).

        @raise ServiceUnavailable: no client of that participant has that
            resource.
        """
        real = yield self.store.clientFor(name, participant.proxyId,
                                          resource)
        if real is None or JID(real).userhost() != participant.jid:
            raise ServiceUnavailable("No such client")
        return real

    @defer.inlineCallbacks
    def _proxyIdFor(self, name, bare):
        """
        Return the proxy identifier of C{bare} in channel C{name}: the one
        it had before (PJID-3, same on rejoin), or a fresh random one that
        was never issued and does not spell an existing channel (AMB-30).
        """
        proxyId = yield self.store.proxyIdFor(name, bare)
        while proxyId is None:
            candidate = generateProxyId()
            local = "%s#%s" % (candidate, name)
            if (yield self.store.getChannel(local)) is not None:
                continue
            if (yield self.store.reserveProxyId(name, bare, candidate)):
                proxyId = candidate
        return proxyId

    @defer.inlineCallbacks
    def notify(self, channel, node, items, changed=None):
        """
        Record and distribute items published to C{node}, if the channel
        has that node: nodes in L{ARCHIVED_NODES} get one archive entry per
        item (MAM-4, VIS-7), then the node's subscribers are notified
        (PS-5), each in its protocol revision (REV-8, REV-9).

        The archive entries are in the default revision's form, whoever
        reads them later (a limit, doc/protocol-revisions.md §8).

        Each item goes in an event of its own: XEP-0060 allows several in
        one, but slixmpp 1.17 fails on such an event and answers it with
        an error, which a channel delivering to full JIDs must take for a
        client gone (D-80).

        @param changed: when the items changed in one respect only
            (L{views.JID_SHOWN}, L{views.NICK_AFTER_JOIN}), that respect:
            only the subscribers whose revision renders it are notified,
            the others have these items as they render them already.  For
            nodes that are not archived.
        """
        if node not in access.presentNodes(channel):
            return
        channelJID = self.channelJID(channel.name)
        if node in ARCHIVED_NODES and self.notifier is not None:
            for item in items:
                archiveId, stamp = self.archiveIds.next()
                yield self.store.appendMessage(channel.name, ArchivedMessage(
                    archiveId=archiveId, stamp=stamp, node=node, sender=None,
                    xml=self.notifier.serializeItems(channelJID, node, [item]),
                    itemId=item.id))
        recipients, revisions = yield self._audience(channel, node)
        for item in items if recipients else ():
            self.notifier.itemsPublished(channelJID, node, [item],
                                         recipients, revisions, changed)

    @defer.inlineCallbacks
    def notifyRetract(self, channel, node, itemIds):
        """
        Tell the subscribers of C{node}, if the channel has it, that
        C{itemIds} are gone (JOIN-19, ADM-8), each in its protocol
        revision.

        Each retraction goes in an event of its own, as each published
        item does (L{notify}, D-80).

        @param itemIds: L{views.NodeItem}s (named per revision, REV-8) or
            plain ids (the same in every revision).
        """
        if node not in access.presentNodes(channel):
            return
        recipients, revisions = yield self._audience(channel, node)
        for itemId in itemIds if recipients else ():
            self.notifier.itemsRetracted(
                self.channelJID(channel.name), node, [itemId], recipients,
                revisions)

    @defer.inlineCallbacks
    def _audience(self, channel, node):
        """
        Return C{(subscribers of node, the channel's revisions)} for a
        notification; no subscribers when there is no notifier.  The
        revisions are read only when somebody is to be notified.
        """
        recipients = yield self.store.getSubscribers(channel.name, node)
        if not recipients or self.notifier is None:
            return [], None
        revisions = yield self.revisionsOf(channel.name)
        return recipients, revisions

    @defer.inlineCallbacks
    def _notifyJoined(self, channel, participant):
        yield self.notify(channel, ns.NODE_PARTICIPANTS, [
            views.participantItem(channel, participant, self.domain,
                                  joining=True)])
        yield self.notify(channel, ns.NODE_JIDMAP, [
            views.jidmapItem(participant, self.domain)])
        yield self.notify(channel, ns.NODE_JIDMAP_VISIBLE, [
            views.jidmapVisibleItem(participant, self.domain)])

    def notifyJIDShown(self, channel, participants):
        """
        Notify the participants items of C{participants}, whose real JID
        the channel now shows or no longer shows (VIS-3), to the
        subscribers who read that JID (REV-8): each item as it is now,
        with or without C{<jid/>}, each in an event of its own (as every
        other participants notification).  Subscribers on
        C{urn:xmpp:mix:1} get nothing: their items did not change.

        Call it once the new JID Visibility or preferences are stored, so
        that a JID no longer shown is never sent.
        """
        if not participants:
            return defer.succeed(None)
        return self.notify(channel, ns.NODE_PARTICIPANTS, [
            views.participantItem(channel, p, self.domain)
            for p in participants], changed=views.JID_SHOWN)

    def revisionsOf(self, name):
        """
        Return (a Deferred firing with) the participants of channel
        C{name} not on the default revision: real bare JID to revision
        namespace (REV-2).  Usually empty; not to be changed.
        """
        return self.store.getRevisions(name)

    @defer.inlineCallbacks
    def revisionOf(self, name, bare):
        """
        Return the protocol revision what C{bare} (a real bare JID, as a
        string) reads from channel C{name} is rendered in: its
        participant's revision (REV-2), the default for non-participants
        (REV-16).
        """
        revisions = yield self.revisionsOf(name)
        return revisions.get(bare, ns.DEFAULT_REVISION)

    @defer.inlineCallbacks
    def requireParticipant(self, name, requester):
        """
        Return C{(channel, participant)} or fail with L{Forbidden} when the
        requester's bare JID is not a participant.
        """
        channel = yield self.getChannel(name)
        participant = yield self.store.getParticipant(
            name, requester.userhost())
        if participant is None:
            raise Forbidden("You are not a participant of this channel")
        return channel, participant

    @exclusive("name")
    @defer.inlineCallbacks
    def updateSubscription(self, requester, name, subscribe, unsubscribe):
        """
        Add and remove node subscriptions of a participant (JOIN-16, 17).

        @return: C{(subscribed, unsubscribed)} node lists.
        """
        channel, participant = yield self.requireParticipant(name, requester)
        role = yield self.roleOf(channel, requester)
        added = self._subscribable(channel, subscribe, role)
        removed = [ns.canonicalNode(n) for n in unsubscribe]
        before = yield self.store.getSubscriptions(name, participant.jid)
        yield self.store.addSubscriptions(name, participant.jid, added)
        yield self.store.removeSubscriptions(name, participant.jid, removed)
        yield self._subscribed(channel, participant.jid,
                               [n for n in added if n not in removed and
                                n not in before])
        return added, removed

    @exclusive("name")
    @defer.inlineCallbacks
    def leave(self, requester, name):
        """
        Leave a channel (JOIN-18..23): unsubscribe from every node, remove
        the participants and jidmap items with notifications; the proxy
        identifier stays reserved.  Leaving a channel one is not in
        succeeds.
        """
        channel = yield self.getChannel(name)
        yield self.removeParticipant(channel, requester.userhost())

    @defer.inlineCallbacks
    def removeParticipant(self, channel, bare):
        """
        Take a bare JID out of a channel with leave semantics (JOIN-19..21):
        every subscription dropped, the participants, jidmap and
        jidmap-visible items retracted with notifications.  Used by leave,
        by banning (ADM-9) and by visibility changes (VIS-4).

        @return: C{True} if it was a participant.
        """
        name = channel.name
        participant = yield self.store.getParticipant(name, bare)
        yield self.store.removeSubscriptions(name, bare)
        if participant is not None:
            yield self.store.removeParticipant(name, bare)
            item = views.participantRef(participant, self.domain)
            for node in (ns.NODE_PARTICIPANTS, ns.NODE_JIDMAP,
                         ns.NODE_JIDMAP_VISIBLE):
                yield self.notifyRetract(channel, node, [item])
        for hook in self.leaveHooks:
            yield hook(channel, bare, participant)
        return participant is not None

    # Nicks

    @exclusive("name")
    @defer.inlineCallbacks
    def setNick(self, requester, name, nick):
        """
        Set a participant's nick (NICK-1..6).

        @param nick: the requested nick; empty or C{None} asks the channel
            to assign one (NICK-4).
        @return: the nick assigned.
        """
        channel, participant = yield self.requireParticipant(name, requester)
        if nick is None or not nick.strip():
            # A generated nick is valid by construction; the length limit
            # guards what users send.
            return (yield self._assignGeneratedNick(channel, participant))
        nick = enforceNick(nick, self.limits.maxNickLength)
        yield self.assignNick(channel, participant, nick)
        return nick

    @defer.inlineCallbacks
    def _assignGeneratedNick(self, channel, participant):
        while True:
            nick = generateNick()
            try:
                yield self.assignNick(channel, participant, nick)
            except Conflict:
                continue
            return nick

    @defer.inlineCallbacks
    def assignNick(self, channel, participant, nick):
        """
        Give a participant C{nick} (already PRECIS-enforced) and notify the
        participants node (NICK-6).

        Setting the nick the participant already has, spelled the same,
        is a successful no-op, whoever registered it meanwhile.

        Run it as a change of the channel (under its key, D-46), with
        C{participant} read under that key: otherwise a leave or ban
        stored meanwhile would be undone by the save.

        @raise Conflict: when another participant uses it, or another user
            registered it with the service (NICK-3, NICK-8).
        """
        if participant.nick == nick:
            return
        yield self._claimNick(channel, participant, nick)
        yield self.notify(channel, ns.NODE_PARTICIPANTS, [
            views.participantItem(channel, participant, self.domain)])
        yield self.participantChanged(channel, participant)

    def _claimNick(self, channel, participant, nick):
        """
        Check that C{nick} is free for C{participant} and save the
        participant with it (L{_takeNick}).

        The registration check and the save run alone among the uses of
        this nick key, so that a registration of the same nick (which
        checks every channel, then registers, under the same key) comes
        wholly before or after: never both succeed (NICK-8, D-46).
        """
        key = nickKey(nick)
        return self.nickExclusive(key, self._takeNick, channel, participant,
                                  nick, key)

    @defer.inlineCallbacks
    def _takeNick(self, channel, participant, nick, key):
        holder = yield self.store.getParticipantByNick(channel.name, key)
        if holder is not None and holder.jid != participant.jid:
            raise Conflict("Nick in use")
        registrant = yield self.store.nickHolder(key)
        if registrant is not None and registrant != participant.jid:
            raise Conflict("Nick registered by another user")
        previous = participant.nick, participant.nickKey
        participant.nick, participant.nickKey = nick, key
        try:
            yield self.store.saveParticipant(participant)
        except Conflict:
            participant.nick, participant.nickKey = previous
            raise

    def nickExclusive(self, key, f, *args, **kwargs):
        """
        Run C{f(*args, **kwargs)} alone among the changes that claim the
        nick with comparison key C{key}: a participant taking it
        (L{assignNick}) and its registration with the service
        (L{mixtwisted.registration}).

        Nick keys are always taken last: a caller may hold its channel's
        key, but nothing run under a nick key takes a channel key or
        another nick key, so they cannot deadlock.
        """
        return self.serial.run(NICK_SCOPE + key, f, *args, **kwargs)

    @defer.inlineCallbacks
    def ensureNick(self, channel, participant):
        """
        Give a participant without nick a generated one before it speaks
        (NICK-5, AMB-21).
        """
        if participant.nick is None:
            yield self._assignGeneratedNick(channel, participant)
        return participant.nick

    # Messages

    @defer.inlineCallbacks
    def prepareMessage(self, requester, channel, participant=None):
        """
        Check a groupchat message and prepare its reflection (MSG-1..7):
        only participants may send (MSG-2); the sender gets a nick if it
        has none; the archive id becomes the id of every copy.

        @param channel: the channel record, as the caller looked it up.
        @param participant: the sender's participant record, if the caller
            has it already; otherwise it is looked up here.
        """
        name = channel.name
        if participant is None:
            participant = yield self.store.getParticipant(
                name, requester.userhost())
        if participant is None:
            raise Forbidden("You are not a participant of this channel")
        if channel.config.get("Participants Must Provide Presence") and \
                "presence" in channel.config.get("Nodes Present", ()):
            # Without the presence node nobody can provide presence: the
            # option has nothing to check (MSG-8).
            yield self._requirePresence(name, participant, requester)
        nick = yield self.ensureNick(channel, participant)
        recipients = yield self.store.getSubscribers(name, ns.NODE_MESSAGES)
        revisions = yield self.store.getRevisions(name)
        archiveId, stamp = self.archiveIds.next()
        return Reflection(
            channel=name, channelJID=self.channelJID(name),
            archiveId=archiveId, stamp=stamp, nick=nick,
            proxyJID=proxyJID(participant.proxyId, name, self.domain),
            recipients=recipients, originator=participant.jid,
            proxyId=participant.proxyId,
            visibleJID=participant.jid
            if views.jidVisible(channel, participant) else None,
            revisions=revisions)

    def sequenceMessage(self, requester, channel, archive):
        """
        Prepare a groupchat message (L{prepareMessage}) as a change of its
        channel, and start archiving it before the channel's next change
        runs: archive ids are issued, and archive writes begun, in the
        order messages arrived, and a message never slips in beside a
        leave or a ban of its sender (D-46).

        @param archive: called with the L{Reflection}; builds the stanza
            and starts storing it, returning a Deferred that fires once it
            is stored.  That Deferred is not waited for here: the store
            commits entries in the order they were handed over.
        @return: Deferred firing with C{(reflection, stored)}, C{stored}
            being the Deferred C{archive} returned.
        """
        return self.serial.run(channel.name, self._sequence, requester,
                               channel, archive)

    @defer.inlineCallbacks
    def _sequence(self, requester, channel, archive):
        # The record the caller read before this turn may predate a change
        # that ran first (a switch to jid-hidden decides whether the
        # MIX-CORE copies carry the sender's JID): read it again, now.
        channel = yield self.getChannel(channel.name)
        reflection = yield self.prepareMessage(requester, channel)
        return reflection, archive(reflection)

    @defer.inlineCallbacks
    def _requirePresence(self, name, participant, requester):
        """
        With C{Participants Must Provide Presence}, refuse what a client
        sends while it has no item in the presence node (MSG-8, AMB-44).
        Two store reads, only in channels with that option.

        @raise NotAcceptable: the sending client has no presence item.
        """
        resource = None
        if requester.resource is not None:
            resource = yield self.store.clientResource(
                name, requester.full())
        if resource is None or (yield self.store.getPresence(
                name, participant.proxyId, resource)) is None:
            raise NotAcceptable("This channel requires your presence "
                                "before you send")

    def archive(self, name, message):
        """
        Store an archive entry (MSG-4) and return a Deferred that fires
        once it is stored.
        """
        return self.store.appendMessage(name, message)

    # PubSub access

    @defer.inlineCallbacks
    def readableNode(self, requester, name, node):
        """
        Return C{(channel, canonical node)} when the node exists and the
        requester may read it; whoever may read a node may also subscribe
        to it and query its archive (ACL-7, MAM-5, AMB-48).

        @raise NotFound: no such channel or node.
        @raise Forbidden: the requester's role is too low.
        """
        channel = yield self.getChannel(name)
        node = ns.canonicalNode(node)
        if node not in access.presentNodes(channel):
            raise NotFound("No such node")
        role = yield self.roleOf(channel, requester)
        if not access.mayRead(channel, node, role):
            raise Forbidden("You may not read this node")
        return channel, node

    @defer.inlineCallbacks
    def readableArchive(self, requester, name, node):
        """
        Return the channel when the requester may query the archive of
        C{node} (MAM-5, VIS-7; L{access.mayReadArchive}).

        @raise NotFound: no such channel or node.
        @raise Forbidden: the requester's role is too low.
        """
        channel, node = yield self.readableNode(requester, name, node)
        role = yield self.roleOf(channel, requester)
        if not access.mayReadArchive(channel, node, role):
            raise Forbidden("You may not read this archive")
        return channel

    @defer.inlineCallbacks
    def queryArchive(self, requester, name, query):
        """
        Answer a MAM query (MAM-3..5): the requester must be allowed to
        read the archive, and RSM C{after}/C{before} must name entries of
        it (XEP-0313: C{item-not-found} otherwise).

        @type query: L{mixtwisted.records.ArchiveQuery}
        @return: the L{mixtwisted.records.ArchivePage}.
        """
        yield self.readableArchive(requester, name, query.node)
        for bound in (query.after, query.before):
            if bound and not (yield self.store.hasArchived(name, bound)):
                raise NotFound("No such archive id")
        page = yield self.store.queryArchive(name, query)
        return page

    @defer.inlineCallbacks
    def readItems(self, requester, name, node, itemIds=None, maxItems=None):
        """
        Return the items of a node the requester may read (PS-1, CHAN-5..8).

        @param itemIds: only these items (XEP-0060 §6.5.8).
        @param maxItems: only the last C{maxItems} items.
        """
        channel, node = yield self.readableNode(requester, name, node)
        reader = self.nodeReaders.get(node)
        if reader is not None:
            role = yield self.roleOf(channel, requester)
            items = yield reader(channel, role)
            return views.selectItems(items, itemIds, maxItems)
        participants = []
        if node in (ns.NODE_PARTICIPANTS, ns.NODE_JIDMAP,
                    ns.NODE_JIDMAP_VISIBLE):
            participants = yield self.store.listParticipants(name)
        items = views.nodeItems(channel, node, participants, self.domain)
        return views.selectItems(items, itemIds, maxItems)

    @staticmethod
    def _checkSubscriber(requester, subscriber):
        if subscriber.userhost() != requester.userhost():
            raise BadRequest("Subscribe with your bare JID",
                             appCondition=(ns.NS_PUBSUB_ERRORS,
                                           "invalid-jid"))

    @exclusive("name")
    @defer.inlineCallbacks
    def subscribeNode(self, requester, name, node, subscriber):
        """
        Subscribe directly to a node (PS-4, ACL-8): the subscriber must be
        the requester's bare JID and the node's subscription value must let
        the requester in.

        @return: the canonical node name.
        """
        self._checkSubscriber(requester, subscriber)
        channel, node = yield self.readableNode(requester, name, node)
        before = yield self.store.getSubscriptions(name, requester.userhost())
        yield self.store.addSubscriptions(name, requester.userhost(), [node])
        if node not in before:
            yield self._subscribed(channel, requester.userhost(), [node])
        return node

    @exclusive("name")
    @defer.inlineCallbacks
    def unsubscribeNode(self, requester, name, node, subscriber):
        """
        Remove a direct subscription; not being subscribed is an
        C{unexpected-request} (XEP-0060 §6.2.3.2).
        """
        self._checkSubscriber(requester, subscriber)
        channel = yield self.getChannel(name)
        node = ns.canonicalNode(node)
        if node not in access.presentNodes(channel):
            raise NotFound("No such node")
        subscriptions = yield self.store.getSubscriptions(
            name, requester.userhost())
        if node not in subscriptions:
            raise UnexpectedRequest(appCondition=(ns.NS_PUBSUB_ERRORS,
                                                  "not-subscribed"))
        yield self.store.removeSubscriptions(
            name, requester.userhost(), [node])
