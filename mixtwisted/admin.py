"""
Channel administration: information and configuration updates, the allowed
and banned lists, avatar nodes and End of Life (ADM-1..12, ACL-*, VIS-4,
CRE-11, CRE-12, NODE-13).

Plain Python over the channel logic (L{mixtwisted.channels}) and the store;
the PubSub handler (L{mixtwisted.handlers.pubsub}) calls it for publish and
retract requests.
"""

from twisted.internet import defer
from twisted.python import log
from twisted.words.protocols.jabber.jid import InvalidFormat, JID

from mixtwisted import access
from mixtwisted import config as cfg
from mixtwisted import namespaces as ns
from mixtwisted import nodes as views
from mixtwisted.errors import BadRequest, Forbidden, NotAcceptable, NotFound
from mixtwisted.ids import parseDateTime
from mixtwisted.serial import exclusive

#: The nodes holding a list of JIDs and domains (NODE-10, NODE-11), with
#: their C{Nodes Present} option and record attribute.
LIST_NODES = {
    ns.NODE_ALLOWED: ("allowed", "allowed"),
    ns.NODE_BANNED: ("banned", "banned"),
}

AVATAR_NODES = (ns.NODE_AVATAR_DATA, ns.NODE_AVATAR_METADATA)

#: Most items an allowed or banned list holds.
MAX_LIST_ITEMS = 10000
#: Most items kept in an avatar node (the newest), and the longest item id.
MAX_AVATAR_ITEMS = 8
MAX_ITEM_ID = 256

#: Payload element expected in each avatar node (XEP-0084).
AVATAR_PAYLOADS = {
    ns.NODE_AVATAR_DATA: (ns.NODE_AVATAR_DATA, "data"),
    ns.NODE_AVATAR_METADATA: (ns.NODE_AVATAR_METADATA, "metadata"),
}

#: Every node a subscription may exist for.
_SUBSCRIBABLE = ns.STANDARD_NODES


def normaliseListItem(itemId):
    """
    Return the canonical item id of an allowed/banned item: a JID-prepared
    bare JID or domain; a full JID is reduced to its bare JID (ADM-7,
    AMB-25).

    @raise BadRequest: for an empty or malformed id.
    """
    if not itemId or not itemId.strip():
        raise BadRequest("An item id (a JID or a domain) is required")
    try:
        jid = JID(itemId.strip())
    except (InvalidFormat, UnicodeError, ValueError):
        raise BadRequest("Not a JID or domain: %r" % (itemId,))
    if cfg.tooLong(jid):
        raise BadRequest("JID too long")
    return jid.userhost()


def _domainOf(bare):
    return bare.rsplit("@", 1)[-1]


def matchesItem(bare, item):
    """
    Tell whether a bare JID matches an allowed/banned item: equal bare JID
    or equal domain (ACL-3, AMB-25).
    """
    return bare == item or _domainOf(bare) == item


class Administration:
    """
    Administer the channels of a L{mixtwisted.channels.ChannelService}.

    @param channels: the L{mixtwisted.channels.ChannelService}.
    @param clock: the reactor (C{callLater}, C{seconds}), a C{Clock} in
        tests.
    """

    def __init__(self, channels, clock):
        self.channels = channels
        self.clock = clock
        #: channel name -> IDelayedCall of its End of Life (CRE-11).
        self.timers = {}
        channels.startHooks.append(self.start)
        channels.removalHooks.append(self._channelRemoved)
        channels.creationHooks.append(self.scheduleEndOfLife)

    @property
    def store(self):
        return self.channels.store

    # Rights

    @defer.inlineCallbacks
    def writableNode(self, requester, name, node):
        """
        Check that C{requester} may publish to or retract from C{node}
        (PS-6) and return C{(channel, canonical node, role)}.

        The allowed and banned nodes count as present for those who may
        write them: publishing creates them (ADM-10, AMB-26).

        @raise NotFound: no such channel, or an absent node.
        @raise Forbidden: the requester lacks the right, or the node is
            written by the service only (PS-2, PS-3).
        """
        channel = yield self.channels.getChannel(name)
        node = ns.canonicalNode(node)
        if node in (ns.NODE_PARTICIPANTS, ns.NODE_JIDMAP,
                    ns.NODE_JIDMAP_VISIBLE, ns.NODE_PRESENCE,
                    ns.NODE_MESSAGES):
            raise Forbidden("This node is written by the channel only")
        role = yield self.channels.roleOf(channel, requester)
        present = access.presentNodes(channel)
        if node in LIST_NODES and role >= access.ADMIN:
            return channel, node, role
        if node not in present:
            raise NotFound("No such node")
        if role < access.writeRole(channel, node):
            raise Forbidden("You may not change this node")
        return channel, node, role

    # Information and configuration (ADM-2, ADM-4, ADM-5)

    @exclusive("name")
    @defer.inlineCallbacks
    def publishInfo(self, requester, name, submitted):
        """
        Merge a submitted information form into the info node (ADM-2).

        Only information fields are taken; others are ignored.

        @param submitted: C{(var, [values])} pairs of a submit form.
        @return: the new item id.
        """
        channel, node, role = yield self.writableNode(
            requester, name, ns.NODE_INFO)
        fields = [(var, values) for var, values in submitted
                  if cfg.fieldKey(var) in cfg.INFO_BY_KEY]
        newConfig, newInfo = cfg.applyForm(channel.config, channel.info,
                                           fields)
        if newInfo.get("JID Visibility") != \
                channel.info.get("JID Visibility") and role < access.OWNER:
            # The visibility mode decides whose real JIDs others see: it
            # is the owners' decision, as the configuration is (ACL-4).
            raise Forbidden("Only owners may change JID Visibility")
        updated = yield self._update(channel, requester, newConfig, newInfo,
                                     info=True)
        return updated.infoId

    @exclusive("name")
    @defer.inlineCallbacks
    def publishConfig(self, requester, name, submitted):
        """
        Merge a submitted configuration form into the config node (ADM-4):
        owners only (ACL-4); C{JID Visibility} goes to the info node
        (AMB-6); C{Last Change Made By} is set to the publisher.

        @return: the new item id.
        """
        channel, node, role = yield self.writableNode(
            requester, name, ns.NODE_CONFIG)
        newConfig, newInfo = cfg.applyForm(channel.config, channel.info,
                                           submitted)
        if newConfig.get("End of Life") != channel.config.get("End of Life"):
            cfg.checkEndOfLife(newConfig, self.clock.seconds())
        updated = yield self._update(channel, requester, newConfig, newInfo,
                                     config=True)
        return updated.configId

    @defer.inlineCallbacks
    def _update(self, channel, requester, newConfig, newInfo, config=False,
                info=False):
        """
        Store a validated configuration and information and carry out what
        follows from the change (ADM-5): new item ids, VIS-4 removals,
        removed nodes, subscriptions the new configuration no longer
        allows, notifications (last, the participants items whose real
        JID the new JID Visibility shows or hides), End of Life.
        """
        old = channel.copy()
        updated = channel.copy()
        updated.config = dict(newConfig)
        updated.info = dict(newInfo)
        configChanged = config or updated.config != old.config
        infoChanged = info or updated.info != old.info
        if configChanged:
            updated.config["Last Change Made By"] = requester.userhost()
            updated.configId = self.channels.itemIds.next(old.configId)
        if infoChanged:
            updated.infoId = self.channels.itemIds.next(old.infoId)
        self._dropRemovedNodeItems(old, updated)
        # Participants the new mode excludes leave before the mode is
        # stored: at no moment does the channel show a JID its owner chose
        # never to show (VIS-4).
        yield self._evictExcluded(old, updated)
        yield self.store.updateChannel(updated)
        yield self._afterChange(old, updated)
        if configChanged:
            yield self.channels.notify(updated, ns.NODE_CONFIG,
                                       [views.configItem(updated)])
        if infoChanged:
            yield self.channels.notify(updated, ns.NODE_INFO,
                                       [views.infoItem(updated)])
        yield self._notifyJIDShown(old, updated)
        if updated.config.get("End of Life") != old.config.get("End of Life"):
            self.scheduleEndOfLife(updated, atOnce=False)
        return updated

    def _dropRemovedNodeItems(self, old, updated):
        """
        A node taken out of C{Nodes Present} loses its items: the allowed
        and banned lists are emptied (ADM-5).
        """
        nodes = updated.config.get("Nodes Present", ())
        for option, attribute in LIST_NODES.values():
            if option not in nodes:
                setattr(updated, attribute, ())

    @defer.inlineCallbacks
    def _evictExcluded(self, old, updated):
        """
        Remove the participants whose preference the new JID Visibility
        excludes (VIS-4): C{never} in a jid-visible channel, C{always} in a
        jid-hidden one.  Removal notifications follow the old
        configuration, which their subscribers were entitled to.
        """
        oldMode, mode = views.visibility(old), views.visibility(updated)
        excluded = {cfg.JID_VISIBLE: "never",
                    cfg.JID_HIDDEN: "always"}.get(mode)
        if mode == oldMode or excluded is None:
            return
        for participant in (yield self.store.listParticipants(old.name)):
            if participant.prefs.get("JID Visibility") == excluded:
                yield self.channels.removeParticipant(old, participant.jid)

    @defer.inlineCallbacks
    def _notifyJIDShown(self, old, updated):
        """
        After a change of JID Visibility, notify the participants items
        whose real JID the new mode shows or hides (VIS-3) to the readers
        of real JIDs (REV-8).  Run once the new mode is stored, after the
        VIS-4 removals and the pruning of subscriptions: the JIDs sent are
        those the new mode shows, to the subscribers it lets read them.
        """
        if views.visibility(old) == views.visibility(updated):
            return
        participants = yield self.store.listParticipants(updated.name)
        yield self.channels.notifyJIDShown(
            updated, views.jidShownChanged(old, updated, participants))

    @defer.inlineCallbacks
    def _afterChange(self, old, updated):
        """
        What follows from any change of configuration, information or
        lists: removal of avatar items of a dropped avatar node, the
        channel logic's configuration hooks (presence node), and pruning
        of the subscriptions nobody may keep.
        """
        name = updated.name
        if old.config.get("Open Presence") and \
                not updated.config.get("Open Presence"):
            # Only participants may keep presence now (PRES-2).
            for bare in (yield self._presentNonParticipants(name)):
                yield self.channels.removeParticipant(updated, bare)
        if "avatar" in old.config.get("Nodes Present", ()) and \
                "avatar" not in updated.config.get("Nodes Present", ()):
            for node in AVATAR_NODES:
                yield self.store.removeItems(name, node)
        # Other areas follow (a presence node taken out loses its items,
        # with unavailable to its subscribers, who are still there).
        for hook in self.channels.configHooks:
            yield hook(old, updated)
        yield self.pruneSubscriptions(updated)

    @defer.inlineCallbacks
    def _presentNonParticipants(self, name):
        """
        Return the bare JIDs of clients in the presence node that are not
        participants (Open Presence guests, AMB-43).
        """
        found = []
        for record in (yield self.store.listPresence(name)):
            bare = JID(record.jid).userhost()
            if bare not in found and \
                    (yield self.store.getParticipant(name, bare)) is None:
                found.append(bare)
        return found

    @defer.inlineCallbacks
    def pruneSubscriptions(self, channel):
        """
        Drop every subscription the channel's configuration no longer
        allows: to nodes no longer present, and by subscribers whose role
        no longer reads the node (ADM-5, VIS-5), so that nobody keeps
        receiving what they may not read.
        """
        name = channel.name
        present = access.presentNodes(channel)
        roles = {}
        for node in _SUBSCRIBABLE:
            subscribers = yield self.store.getSubscribers(name, node)
            for bare in subscribers:
                if node in present:
                    if bare not in roles:
                        roles[bare] = yield self.channels.roleOf(
                            channel, JID(bare))
                    if access.mayRead(channel, node, roles[bare]):
                        continue
                yield self.store.removeSubscriptions(name, bare, [node])

    # The allowed and banned lists (ACL-3, ADM-6..10)

    @exclusive("name")
    @defer.inlineCallbacks
    def addListItem(self, requester, name, node, itemId):
        """
        Add a JID or domain to the allowed or banned node (ADM-7); an
        absent node is created (ADM-10).  Banning removes every matching
        participant and drops matching subscriptions (ADM-9); owners,
        administrators and service operators cannot be banned (AMB-25).
        """
        channel, node, role = yield self.writableNode(requester, name, node)
        item = normaliseListItem(itemId)
        option, attribute = LIST_NODES[node]
        if len(getattr(channel, attribute)) >= MAX_LIST_ITEMS:
            raise NotAcceptable("The list holds %d items already"
                                % (MAX_LIST_ITEMS,))
        if node == ns.NODE_BANNED:
            protected = set(channel.config.get("Owner", ())) | set(
                channel.config.get("Administrator", ())) | set(
                self.channels.operators)
            if any(matchesItem(bare, item) for bare in protected):
                raise NotAcceptable("Owners and administrators cannot be "
                                    "banned")
        updated = channel.copy()
        nodes = tuple(updated.config.get("Nodes Present", ()))
        created = option not in nodes
        if created:
            updated.config["Nodes Present"] = nodes + (option,)
            updated.config["Last Change Made By"] = requester.userhost()
            updated.configId = self.channels.itemIds.next(channel.configId)
        items = getattr(updated, attribute)
        added = item not in items
        if added:
            setattr(updated, attribute, items + (item,))
        if not (added or created):
            return
        yield self.store.updateChannel(updated)
        if node == ns.NODE_BANNED:
            yield self._evict(updated, item)
        yield self.pruneSubscriptions(updated)
        if created:
            yield self.channels.notify(updated, ns.NODE_CONFIG,
                                       [views.configItem(updated)])
        if added:
            yield self.channels.notify(updated, node, [views.NodeItem(item)])

    @defer.inlineCallbacks
    def _evict(self, channel, item):
        """
        Remove every participant matching a banned item, with leave
        semantics, and drop matching subscriptions of others (ADM-9).
        """
        name = channel.name
        for participant in (yield self.store.listParticipants(name)):
            if matchesItem(participant.jid, item):
                yield self.channels.removeParticipant(channel, participant.jid)
        # Clients of non-participants (Open Presence guests) go too.
        for bare in (yield self._presentNonParticipants(name)):
            if matchesItem(bare, item):
                yield self.channels.removeParticipant(channel, bare)
        for node in _SUBSCRIBABLE:
            for bare in (yield self.store.getSubscribers(name, node)):
                if matchesItem(bare, item):
                    yield self.store.removeSubscriptions(name, bare)

    @exclusive("name")
    @defer.inlineCallbacks
    def retractListItems(self, requester, name, node, itemIds):
        """
        Remove JIDs or domains from the allowed or banned node (ADM-8).
        Every item must exist, or nothing changes (C{item-not-found}).
        Removing an allowed item evicts no participant (ADM-9).
        """
        channel, node, role = yield self.writableNode(requester, name, node)
        if node not in access.presentNodes(channel):
            raise NotFound("No such node")
        if not itemIds:
            raise BadRequest("Name the item to retract",
                             appCondition=(ns.NS_PUBSUB_ERRORS,
                                           "item-required"))
        option, attribute = LIST_NODES[node]
        items = getattr(channel, attribute)
        removed = []
        for itemId in itemIds:
            item = normaliseListItem(itemId)
            if item not in items:
                raise NotFound("No such item")
            if item not in removed:
                removed.append(item)
        updated = channel.copy()
        setattr(updated, attribute,
                tuple(i for i in items if i not in removed))
        yield self.store.updateChannel(updated)
        yield self.pruneSubscriptions(updated)
        yield self.channels.notifyRetract(updated, node, removed)

    # Avatar nodes (NODE-13)

    @exclusive("name")
    @defer.inlineCallbacks
    def publishAvatar(self, requester, name, node, itemId, payload):
        """
        Publish an XEP-0084 item to an avatar node, per C{Avatar Nodes
        Update Rights}.

        @param payload: C{(uri, name, serialized xml)} of the payload.
        @return: the item id (the client's, or a fresh date-time).
        """
        channel, node, role = yield self.writableNode(requester, name, node)
        if node not in AVATAR_NODES:
            raise NotFound("No such node")
        if payload is None or payload[:2] != AVATAR_PAYLOADS[node]:
            raise BadRequest("Expected an XEP-0084 %s payload" %
                             (AVATAR_PAYLOADS[node][1],),
                             appCondition=(ns.NS_PUBSUB_ERRORS,
                                           "invalid-payload"))
        limit = self.channels.limits.maxItemBytes
        if len(payload[2]) * 4 > limit and \
                len(payload[2].encode("utf-8")) > limit:
            raise NotAcceptable("Item larger than %d bytes" % (limit,),
                                appCondition=(ns.NS_PUBSUB_ERRORS,
                                              "payload-too-big"))
        if itemId and len(itemId) > MAX_ITEM_ID:
            raise BadRequest("Item id too long")
        if not itemId:
            existing = yield self.store.getItems(name, node)
            itemId = self.channels.itemIds.next(
                existing[-1][0] if existing else None)
        yield self.store.setItem(name, node, itemId, payload[2])
        existing = yield self.store.getItems(name, node)
        if len(existing) > MAX_AVATAR_ITEMS:
            # Keep the newest avatars only.
            yield self.store.removeItems(name, node, [
                i for i, _ in existing[:len(existing) - MAX_AVATAR_ITEMS]])
        yield self.channels.notify(channel, node, [
            views.NodeItem(itemId, views.RawPayload(payload[2]))])
        return itemId

    @exclusive("name")
    @defer.inlineCallbacks
    def retractAvatar(self, requester, name, node, itemIds):
        channel, node, role = yield self.writableNode(requester, name, node)
        if not itemIds:
            raise BadRequest("Name the item to retract",
                             appCondition=(ns.NS_PUBSUB_ERRORS,
                                           "item-required"))
        existing = dict((yield self.store.getItems(name, node)))
        for itemId in itemIds:
            if itemId not in existing:
                raise NotFound("No such item")
        removed = yield self.store.removeItems(name, node, list(itemIds))
        yield self.channels.notifyRetract(channel, node, removed)

    @defer.inlineCallbacks
    def readAvatar(self, requester, name, node, itemIds=None, maxItems=None):
        """
        Return the stored items of an avatar node to those who may read it
        (read as the info node, PS-6).
        """
        channel, node = yield self.channels.readableNode(
            requester, name, node)
        stored = yield self.store.getItems(name, node)
        items = [views.NodeItem(i, views.RawPayload(xml))
                 for i, xml in stored]
        return views.selectItems(items, itemIds, maxItems)

    # End of Life (CRE-11)

    @defer.inlineCallbacks
    def start(self):
        """
        Schedule the End of Life of every channel; remove at once those
        whose End of Life has passed.
        """
        for channel in (yield self.store.listChannels()):
            yield self.scheduleEndOfLife(channel)

    def scheduleEndOfLife(self, channel, atOnce=True):
        """
        (Re)schedule the removal of C{channel} at its End of Life.  A date
        already passed removes it at once (C{atOnce}) or on the next turn
        of the reactor.

        @return: a Deferred firing when an immediate removal is done.
        """
        self._cancel(channel.name)
        text = channel.config.get("End of Life")
        if not text:
            return defer.succeed(None)
        try:
            when = parseDateTime(text)
        except ValueError:
            log.msg("Channel %s: End of Life %r is not a date-time; ignored"
                    % (channel.name, text))
            return defer.succeed(None)
        delay = when - self.clock.seconds()
        if delay <= 0 and atOnce:
            return self._expire(channel.name)
        self.timers[channel.name] = self.clock.callLater(
            max(0, delay), self._expireScheduled, channel.name)
        return defer.succeed(None)

    @exclusive("name")
    def _expireScheduled(self, name):
        """
        The End of Life timer: remove the channel when no other change of
        it is under way.
        """
        return self._expire(name)

    @defer.inlineCallbacks
    def _expire(self, name):
        self.timers.pop(name, None)
        try:
            channel = yield self.store.getChannel(name)
            if channel is None:
                return
            text = channel.config.get("End of Life")
            if not text or parseDateTime(text) > self.clock.seconds():
                # Changed meanwhile: the change rescheduled it.
                return
            log.msg("Channel %s reached its End of Life; removing it"
                    % (name,))
            yield self.channels.removeChannel(name)
        except Exception:
            log.err(None, "Could not remove channel %s at its End of Life"
                    % (name,))

    def _cancel(self, name):
        call = self.timers.pop(name, None)
        if call is not None and call.active():
            call.cancel()

    def _channelRemoved(self, name):
        self._cancel(name)
