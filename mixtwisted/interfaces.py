"""
Interfaces of mixtwisted, in one place.

Storage is split by what it keeps.  Every method returns a L{Deferred}, so a
store may do I/O (PostgreSQL) or not (memory) without the channel logic
knowing.  A store implements all of the storage interfaces; the contract
tests in C{tests/storetests.py} are run against each implementation.
"""

from zope.interface import Attribute, Interface


class IChannelStorage(Interface):
    """
    Channels and their configuration and information.
    """

    def createChannel(record):
        """
        Store a new channel.

        @type record: L{mixtwisted.records.ChannelRecord}
        @return: Deferred that fires with C{None}, or fails with
            L{mixtwisted.errors.Conflict} if the name is taken.
        """

    def getChannel(name):
        """
        @return: Deferred firing with a copy of the
            L{mixtwisted.records.ChannelRecord}, or C{None}.
        """

    def updateChannel(record):
        """
        Replace the configuration and information of an existing channel.

        @return: Deferred firing with C{None}; fails with
            L{mixtwisted.errors.NotFound} for an unknown channel.
        """

    def deleteChannel(name):
        """
        Remove a channel with its participants, subscriptions and archive.

        Proxy identifiers issued in the channel stay reserved (PJID-3).

        @return: Deferred firing with C{True} if it existed.
        """

    def listChannels():
        """
        @return: Deferred firing with a list of every
            L{mixtwisted.records.ChannelRecord}.
        """


class IParticipantStorage(Interface):
    """
    Participants and the proxy identifiers issued to them.
    """

    def getParticipant(channel, jid):
        """
        @param jid: real bare JID, as a string.
        @return: Deferred firing with a copy of the
            L{mixtwisted.records.ParticipantRecord}, or C{None}.
        """

    def getParticipantByProxy(channel, proxyId):
        """
        @return: Deferred firing with the participant whose proxy
            identifier is C{proxyId}, or C{None}.
        """

    def getParticipantByNick(channel, nickKey):
        """
        @return: Deferred firing with the participant whose nick has the
            comparison key C{nickKey}, or C{None}.
        """

    def listParticipants(channel):
        """
        @return: Deferred firing with the participants, in join order.
        """

    def getRevisions(channel):
        """
        The participants of C{channel} that speak another protocol
        revision than L{mixtwisted.namespaces.DEFAULT_REVISION} (REV-2):
        read on every fan-out, so it should be cheap (usually empty).

        @return: Deferred firing with a dict, real bare JID to revision
            namespace; the caller must not change it.
        """

    def saveParticipant(record):
        """
        Insert or update a participant (nick, preferences, revision).

        @return: Deferred firing with C{None}; fails with
            L{mixtwisted.errors.Conflict} if another participant has the
            same nick key.
        """

    def removeParticipant(channel, jid):
        """
        Remove a participant; its proxy identifier stays reserved for it.

        @return: Deferred firing with C{True} if it was a participant.
        """

    def proxyIdFor(channel, jid):
        """
        Return the proxy identifier issued to C{jid} in C{channel} before,
        also after it left (PJID-3).

        @return: Deferred firing with the identifier or C{None}.
        """

    def reserveProxyId(channel, jid, proxyId):
        """
        Bind a new proxy identifier to C{jid} in C{channel}, forever.

        @return: Deferred firing with C{True}, or C{False} when the
            identifier was ever issued in this channel (the caller draws
            another one).
        """


class ISubscriptionStorage(Interface):
    """
    Node subscriptions, by bare JID (participants and others, PS-4).
    """

    def setSubscriptions(channel, jid, nodes):
        """
        Replace the set of nodes C{jid} is subscribed to.

        @return: Deferred firing with C{None}.
        """

    def addSubscriptions(channel, jid, nodes):
        """
        Add C{nodes} to the subscriptions of C{jid}.
        """

    def removeSubscriptions(channel, jid, nodes=None):
        """
        Remove C{nodes} (all when C{None}) from the subscriptions of C{jid}.
        """

    def getSubscriptions(channel, jid):
        """
        @return: Deferred firing with the C{set} of nodes C{jid} is
            subscribed to.
        """

    def getSubscribers(channel, node):
        """
        @return: Deferred firing with a list of bare JID strings subscribed
            to C{node}, in subscription order.
        """


class IArchiveStorage(Interface):
    """
    The channel's MAM archive (MAM-1).
    """

    def appendMessage(channel, message):
        """
        Add an entry.

        @type message: L{mixtwisted.records.ArchivedMessage}
        @return: Deferred firing with C{None} once the entry is stored.
        """

    def queryArchive(channel, query):
        """
        @type query: L{mixtwisted.records.ArchiveQuery}
        @return: Deferred firing with a L{mixtwisted.records.ArchivePage};
            its C{count} is C{None} for a query with filters matching more
            than L{mixtwisted.store.paging.COUNT_LIMIT} entries.
        """

    def getArchived(channel, archiveId):
        """
        @return: Deferred firing with the
            L{mixtwisted.records.ArchivedMessage} with that id, or C{None}.
        """

    def replaceArchived(channel, archiveId, xml):
        """
        Replace the stored stanza of an entry (a retraction tombstone,
        RET-5); its id, time and sender stay.

        @return: Deferred firing with C{True} if the entry existed.
        """

    def hasArchived(channel, archiveId):
        """
        @return: Deferred firing with C{True} if C{archiveId} is an entry of
            C{channel}'s archive (RSM C{after}/C{before} must name one).
        """

    def lastArchiveId():
        """
        @return: Deferred firing with the greatest archive id stored in any
            channel, or C{None}; id generation resumes after it.
        """


class INickStorage(Interface):
    """
    Nicks registered with the service, one per bare JID (NICK-8..14).
    """

    def registerNick(jid, nick, nickKey):
        """
        Register (or replace) the nick of C{jid}.

        @return: Deferred firing with C{None}; fails with
            L{mixtwisted.errors.Conflict} when another JID holds a nick
            with the same comparison key.
        """

    def getRegisteredNick(jid):
        """
        @return: Deferred firing with C{(nick, nickKey)} or C{None}.
        """

    def nickHolder(nickKey):
        """
        @return: Deferred firing with the bare JID that registered a nick
            with this comparison key, or C{None}.
        """


class IItemStorage(Interface):
    """
    PubSub items of nodes whose contents are published by users rather
    than derived by the service (the avatar nodes, NODE-13).
    """

    def setItem(channel, node, itemId, xml):
        """
        Store (or replace) an item; C{xml} is the serialized payload.
        """

    def getItems(channel, node):
        """
        @return: Deferred firing with a list of C{(itemId, xml)}, oldest
            first.
        """

    def removeItems(channel, node, itemIds=None):
        """
        Remove the given items (all when C{None}).

        @return: Deferred firing with the list of ids removed.
        """


class IClientStorage(Interface):
    """
    Full proxy JIDs of clients: the private map between a real full JID
    and the resource of its full proxy JID in a channel (PJID-6, PM-6).
    """

    def clientResource(channel, realFullJID):
        """
        @return: Deferred firing with the resource issued to this client in
            this channel, or C{None}.
        """

    def reserveClientResource(channel, realFullJID, proxyId, resource):
        """
        Bind C{proxyId}/C{resource} to a real full JID, forever.

        @return: Deferred firing with C{False} if the resource was issued
            before under that proxy id (the caller draws another).
        """

    def clientFor(channel, proxyId, resource):
        """
        @return: Deferred firing with the real full JID behind a full proxy
            JID, or C{None}.
        """


class IPresenceStorage(Interface):
    """
    The presence node: one item per online client (NODE-8, PRES-*).
    """

    def setPresence(record):
        """
        Store (or replace) the item of a client.

        @type record: L{mixtwisted.records.PresenceRecord}
        @return: Deferred firing with C{None}; fails with
            L{mixtwisted.errors.NotFound} for an unknown channel.
        """

    def getPresence(channel, proxyId, resource):
        """
        @return: Deferred firing with the record, or C{None}.
        """

    def removePresence(channel, proxyId, resource):
        """
        @return: Deferred firing with the removed record, or C{None}.
        """

    def listPresence(channel):
        """
        @return: Deferred firing with the channel's records, oldest first.
        """

    def markPresenceUnconfirmed():
        """
        Mark every stored item of every channel unconfirmed (at start-up,
        AMB-47).

        @return: Deferred firing with C{None}.
        """


class IDeliveryStorage(Interface):
    """
    Archived messages waiting for a recipient whose server bounced one
    with a transient error (DLV-1..4).  A recipient is a bare JID; its
    pending messages are archive ids of the channel, kept in archive order
    until the path works again and they are retransmitted.

    Each entry has a I{stamp}: when it was last made pending (its latest
    failure, or when it was queued behind the others), seconds since the
    epoch.  Adding an entry again renews its stamp, so that a
    retransmission can remove exactly what it sent and nothing that was
    made pending again meanwhile (C{removePending} with C{upTo}).
    """

    def addPending(channel, recipient, archiveId, stamp):
        """
        Queue archive entry C{archiveId} for C{recipient}.  Adding an id
        that is already queued for that recipient keeps one entry, whose
        stamp becomes C{stamp}.

        @param stamp: when the failure was noticed (or the message
            queued), seconds since the epoch.
        @return: Deferred firing with the number of entries now pending for
            C{recipient} in C{channel}.
        """

    def listPending(channel, recipient):
        """
        @return: Deferred firing with the list of archive ids pending for
            C{recipient}, in archive order (oldest first).
        """

    def listPendingEntries(channel, recipient):
        """
        Like L{listPending}, with the stamps.

        @return: Deferred firing with a list of C{(archive id, stamp)}, in
            archive order.
        """

    def removePending(channel, recipient, archiveIds=None, upTo=None):
        """
        Forget the given pending entries (all of C{recipient}'s when
        C{archiveIds} is C{None}).

        @param upTo: when not C{None}, only the entries whose stamp is at
            most C{upTo} go: one added again with a later stamp since they
            were read stays pending.
        @return: Deferred firing with C{None}.
        """

    def pendingRecipients():
        """
        Every recipient with pending entries, so that a restarted service
        resumes its retries (DLV-1).

        @return: Deferred firing with a list of C{(channel, recipient,
            oldest stamp)} -- the smallest stamp among its entries --,
            ordered by channel then recipient.
        """


class IMIXStorage(IChannelStorage, IParticipantStorage,
                  ISubscriptionStorage, IArchiveStorage, INickStorage,
                  IItemStorage, IClientStorage, IPresenceStorage,
                  IDeliveryStorage):
    """
    Everything a MIX service keeps.

    C{deleteChannel} also forgets the channel's pending deliveries.
    """

    name = Attribute("Short name of the backend, e.g. 'memory'.")

    def start():
        """
        Make the store ready for use: connect, bring the schema up to date.
        Called once before any other method.

        @return: Deferred firing with C{None}.
        """

    def stop():
        """
        Finish the writes under way and release connections.

        @return: Deferred firing with C{None}.
        """

    busy = Attribute(
        "How much work is under way (statements not answered, with the "
        "callbacks their callers chained on them; writes queued): 0 when "
        "idle.  A store answering at once is never busy.")

    def whenIdle():
        """
        @return: Deferred firing once L{busy} is 0 and stays so after the
            callbacks of the last answer ran (a caller's next step is work
            under way too).
        """


class INotifier(Interface):
    """
    What the channel logic tells the protocol layer to distribute.

    The channel logic calls these after a change is stored; the protocol
    layer renders and sends the stanzas.  Recipients are bare JID strings.
    Each recipient gets the event in its protocol revision (REV-2): the
    one C{revisions} names for it, else L{namespaces.DEFAULT_REVISION}.
    C{revisions} is the channel's
    L{IParticipantStorage.getRevisions} dict (not to be changed); empty
    or C{None} means everybody is on the default revision.
    """

    def itemsPublished(channel, node, items, recipients, revisions=None,
                       changed=None):
        """
        Send a PubSub event with C{items} (a list of
        L{mixtwisted.nodes.NodeItem}) of C{node} to C{recipients}.

        @param changed: C{None}, or what alone changed in the items since
            they were last notified (L{mixtwisted.nodes.JID_SHOWN},
            L{mixtwisted.nodes.NICK_AFTER_JOIN}): then
            only the recipients whose revision renders it get the event;
            for the others it would repeat what they have.
        """

    def itemsRetracted(channel, node, itemIds, recipients, revisions=None):
        """
        Send a PubSub retract event to C{recipients}.

        @param itemIds: the items retracted: L{mixtwisted.nodes.NodeItem}s
            (payloads unused), named as each revision knows them (REV-8,
            REV-9), or plain ids, the same in every revision.
        """

    def serializeItems(channel, node, items):
        """
        Return the PubSub event announcing C{items}, serialized without
        C{to}, in the default revision: what a node's archive keeps
        (MAM-4), for readers of every revision.
        """
