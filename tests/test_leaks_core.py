"""
The security bar (requirements.md VIS-6, XEP-0369 §11) with both protocol
revisions in one channel (doc/protocol-revisions.md §4, REV-2): some
participants joined in MIX-CORE's C{urn:xmpp:mix:core:1}, the others in
C{urn:xmpp:mix:1}, and the service renders for each its own revision --
join results (REV-4), participants items and notifications (REV-8), jidmap
(REV-9), messages (REV-12), retraction notices and tombstones (REV-13), MAM
results and retransmissions (REV-14).

The busy scenario, the collection of what the service sends and the search
for real JIDs are tests/test_leaks.py's, run as they are: every stanza a
MIX-CORE participant sends goes through L{Clients}, which says it the way
that participant's client would (C{urn:xmpp:mix:core:1}, retraction in
C{urn:xmpp:mix:misc:0}, preferences in C{urn:xmpp:mix:anon:0}).  Then come
the steps only a MIX-CORE client takes (L{CoreLeakTestsMixin.coreSteps}):
a re-join asking for a nick, C{<unsubscribe/>}, preferences, a message
with a forged C{<mix xmlns='urn:xmpp:mix:core:1'/>}, a retraction of one's
own message, a bounce of a core:1 copy and the retransmission, a reply to
C{<channel>/<stable id>}, and more reads.

The channel is JID-hidden (bob would rather show his JID, C{prefer
visible}, which a hidden channel does not let him), or jid-maybe-visible
where bob shares his JID (C{always}): then his JID must reach the others
where VIS-3 lets it -- which also proves that the search finds a JID in
that traffic -- and nobody else's may; once he stops sharing, or the
channel turns JID-hidden, his may not either.
"""

from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    MemoryStoreMixin, NODE_CONFIG, NODE_INFO, NODE_JIDMAP,
    NODE_JIDMAP_VISIBLE, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE,
    NS_DISCO_INFO, NS_MAM2, NS_MIX, NS_PUBSUB, errorCondition, parse, rsm,
    submitForm)
from tests.pgsql import PgsqlStoreMixin
from tests.test_leaks import CHANNEL, LeakTestsMixin, bare, full

NS_CORE = "urn:xmpp:mix:core:1"
NS_MISC = "urn:xmpp:mix:misc:0"
NS_ANON = "urn:xmpp:mix:anon:0"

#: How a MIX-CORE client says what test_leaks' client says in
#: urn:xmpp:mix:1: C{(old, new)} replacements, in this order (retraction is
#: MIX-MISC's, preferences MIX-ANON's, everything else MIX-CORE's).
CORE_SPEECH = (
    ("<retract xmlns='%s'" % (NS_MIX,), "<retract xmlns='%s'" % (NS_MISC,)),
    ("<user-preference xmlns='%s'" % (NS_MIX,),
     "<user-preference xmlns='%s'" % (NS_ANON,)),
    ("xmlns='%s'" % (NS_MIX,), "xmlns='%s'" % (NS_CORE,)),
)

#: The nick a MIX-CORE participant asks for in its join (REV-5), before the
#: scenario's setnick; none betrays a JID, and none is taken when asked for.
JOIN_NICKS = {"owner": "Hecate", "alice": "Toad", "bob": "Thane",
              "carol": "Boy"}

#: The non-administrators, as test_leaks has them.
OTHERS = ("alice", "bob", "carol")


def stableId(proxy):
    """
    The stable participant id (REV-3) of a proxy JID.
    """
    return proxy.split("#", 1)[0]


class Clients:
    """
    The harness as the users' clients reach it: a stanza that test_leaks
    writes in C{urn:xmpp:mix:1} for a user on MIX-CORE reaches the service
    said in MIX-CORE (L{CORE_SPEECH}).  Everything else is the harness's.

    @ivar revisions: C{{bare JID: revision}} of the users.
    """

    def __init__(self, harness, revisions):
        self.harness = harness
        self.revisions = revisions

    def __getattr__(self, name):
        return getattr(self.harness, name)

    def spoken(self, xml):
        sender = parse(xml).getAttribute("from")
        if sender and self.revisions.get(JID(sender).userhost()) == NS_CORE:
            for old, new in CORE_SPEECH:
                xml = xml.replace(old, new)
        return xml

    def receive(self, xml):
        return self.harness.receive(self.spoken(xml))

    def iq(self, xml):
        return self.harness.iq(self.spoken(xml))


class CoreLeakTestsMixin(LeakTestsMixin):
    """
    test_leaks' scenario with a mix of revisions, and what MIX-CORE clients
    do beyond it.  test_leaks' C{test_searchFindsRealJIDs} runs here as it
    is: the owner, an administrator, reads every real JID in the jidmap, in
    the owner's revision.

    @cvar revisions: C{{user: revision}}.
    @cvar visibility: the channel's C{JID Visibility}, set by the owner
        before anyone joins, or C{None} to keep the default (jid-hidden).
    @cvar preferences: C{{user: JID Visibility preference}} given in the
        join (carol's is test_leaks': C{never}).
    @cvar sharing: the users whose JID the others may see (VIS-3).
    """

    revisions = {"owner": NS_CORE, "alice": NS_CORE, "bob": NS_MIX,
                 "carol": NS_CORE}
    visibility = None
    preferences = {"bob": "prefer visible"}
    sharing = ()

    async def setUp(self):
        await LeakTestsMixin.setUp(self)
        self.h = Clients(self.h, {bare(user): revision for user, revision
                                  in self.revisions.items()})

    def onCore(self, user):
        return self.revisions[user] == NS_CORE

    def hiddenLeaksIn(self, texts, user):
        """
        L{leaksIn} without the JIDs of the users who share them.
        """
        return [leak for leak in self.leaksIn(texts, user)
                if leak[0] not in self.sharing]

    def sentTo(self, user, needle):
        """
        The stanzas sent to C{user} whose serialization holds C{needle},
        parsed (cheaper than L{addressedTo} when only a few hold it).
        """
        return [s for s in (parse(t) for t in self.sent if needle in t)
                if JID(s.getAttribute("to")).userhost() == bare(user)]

    def response(self, user, iqId):
        """
        The one response to C{user}'s IQ C{iqId}.
        """
        (response,) = [
            s for s in self.sentTo(user, " id='%s' " % (iqId,))
            if s.name == "iq" and s["id"] == iqId
            and s.getAttribute("type") in ("result", "error")]
        return response

    # Steps

    async def configure(self, visibility, iqId="vis"):
        """
        The owner sets the channel's JID Visibility (ADM-2, VIS-1).
        """
        await self.feed(
            "<iq type='set' id='%s' from='%s' to='%s'>"
            "<pubsub xmlns='%s'><publish node='%s'>%s</publish></pubsub></iq>"
            % (iqId, full("owner"), CHANNEL, NS_PUBSUB, NODE_INFO,
               submitForm(("JID Visibility", visibility))))
        self.assertEqual("result", self.response("owner", iqId)["type"])

    async def prefer(self, user, visibility, iqId):
        """
        C{user} sets its JID Visibility preference (PREF-3), in
        C{urn:xmpp:mix:anon:0} from a MIX-CORE client (REV-11).
        """
        await self.feed(
            "<iq type='set' id='%s' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (iqId, full(user), CHANNEL, NS_MIX,
               submitForm(("JID Visibility", visibility))))
        self.assertEqual("result", self.response(user, iqId)["type"])

    async def join(self, user, nodes=(NODE_MESSAGES, NODE_PARTICIPANTS),
                   extra=""):
        """
        test_leaks' join, said in the user's revision by L{Clients}: for
        the owner, after setting L{visibility}; with a nick for a MIX-CORE
        joiner (REV-5) and the user's L{preferences}.
        """
        if user == "owner" and self.visibility is not None:
            await self.configure(self.visibility)
        if self.onCore(user):
            extra += "<nick>%s</nick>" % (JOIN_NICKS[user],)
        if user in self.preferences:
            extra += submitForm(("JID Visibility", self.preferences[user]))
        return await LeakTestsMixin.join(self, user, nodes, extra)

    async def coreSteps(self, proxies):
        """
        After test_leaks' scenario (carol has left), what the MIX-CORE
        participants still in the channel do, and the reads of the others.
        """
        ids = {user: stableId(proxy) for user, proxy in proxies.items()}
        for user in ("alice", "bob"):
            if self.onCore(user):
                await self.coreRequests(user)
                await self.coreMessages(user, ids)
                await self.bounce(user, ids)
        for user in ("alice", "bob"):
            await self.reads(user, proxies["owner"], "c-")

    async def coreRequests(self, user):
        """
        A MIX-CORE participant's requests: a re-join asking for the owner's
        nick (conflict), then for a new one; C{<unsubscribe/>}, a refused
        C{<subscribe/>} to jidmap, C{<subscribe/>} again; the preferences
        template and an update that keeps what the user shares; disco#info
        without node.
        """
        nodes = "".join("<subscribe node='%s'/>" % (n,) for n in (
            NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE))
        for iqId, nick in (("rj1", "Graymalkin"), ("rj2", "Witch" + user)):
            await self.feed(
                "<iq type='set' id='%s-%s' from='%s' to='%s'>"
                "<join xmlns='%s'>%s<nick>%s</nick></join></iq>"
                % (iqId, user, bare(user), CHANNEL, NS_CORE, nodes, nick))
        for iqId, verb, node in (("us1", "unsubscribe", NODE_PRESENCE),
                                 ("us2", "subscribe", NODE_JIDMAP),
                                 ("us3", "subscribe", NODE_PRESENCE)):
            await self.feed(
                "<iq type='set' id='%s-%s' from='%s' to='%s'>"
                "<update-subscription xmlns='%s'><%s node='%s'/>"
                "</update-subscription></iq>"
                % (iqId, user, full(user), CHANNEL, NS_CORE, verb, node))
        await self.feed(
            "<iq type='get' id='pt-%s' from='%s' to='%s'>"
            "<user-preference xmlns='%s'/></iq>"
            % (user, full(user), CHANNEL, NS_ANON))
        await self.prefer(user, self.preferences.get(user, "prefer not"),
                          "pu-" + user)
        await self.disco(user, CHANNEL, NS_DISCO_INFO)

    async def coreMessages(self, user, ids):
        """
        A MIX-CORE client's message carrying a C{<mix/>} of its own with
        its real JID (stripped, REV-12); a message retracted by its sender
        (REV-13); a chat message to C{<channel>/<stable id>}, a MIX-CORE
        client's notion of the sender's address (an error).
        """
        await self.feed(
            "<message type='groupchat' id='f-%s' from='%s' to='%s'>"
            "<body>Double, double toil and trouble</body>"
            "<origin-id xmlns='urn:xmpp:sid:0' id='o-%s'/>"
            "<mix xmlns='%s'><nick>x</nick><jid>%s</jid></mix></message>"
            % (user, full(user), CHANNEL, user, NS_CORE, full(user)))
        archiveId = await self.say(user, "Fire burn", "fb-" + user)
        await self.retract(user, archiveId, "fr-" + user)
        await self.feed("<message type='chat' id='cr-%s' from='%s' to='%s/%s'>"
                        "<body>reply</body></message>"
                        % (user, full(user), CHANNEL, ids["owner"]))

    async def bounce(self, user, ids):
        """
        C{user}'s server bounces the core:1 copy of the owner's message (to
        C{<channel>/<owner's stable id>}): C{user} is held (DLV-1), the
        next message waits, and both come again after the marker (DLV-3),
        rendered from the archive (REV-14).
        """
        archiveId = await self.say("owner", "Fillet of a fenny snake",
                                   "b1-" + user)
        await self.feed(
            "<message type='error' id='%s' from='%s' to='%s/%s'>"
            "<error type='wait'><remote-server-timeout xmlns='urn:ietf:"
            "params:xml:ns:xmpp-stanzas'/></error></message>"
            % (archiveId, bare(user), CHANNEL, ids["owner"]))
        other = "alice" if user == "bob" else "bob"
        await self.say(other, "In the cauldron boil and bake", "b2-" + user)
        await self.h.advance(5)
        await self.pump()
        (marker,) = self.sentTo(user, "<marker xmlns=")
        await self.feed("<iq type='result' id='%s' from='%s' to='%s'/>"
                        % (marker["id"], bare(user), CHANNEL))

    async def reads(self, user, ownerProxy, tag):
        """
        C{user} reads: MAM (all, the owner's messages, the node archives),
        node items (jidmap is refused; jidmap-visible exists only in
        jid-maybe-visible channels).  IQ ids start with C{tag}.
        """
        await self.mam(user, rsm(50), iqId=tag + "mam")
        await self.mam(user, submitForm(("with", ownerProxy),
                                        formType=NS_MAM2), iqId=tag + "with")
        for node in (NODE_JIDMAP, NODE_INFO, NODE_CONFIG):
            await self.mam(user, node=node, iqId=tag + "mam-" + node)
        for node in (NODE_PARTICIPANTS, NODE_JIDMAP, NODE_JIDMAP_VISIBLE,
                     NODE_PRESENCE):
            await self.items(user, node, tag + "items-" + node)

    async def busy(self):
        """
        test_leaks' scenario and L{coreSteps}; return the proxy JIDs.
        """
        proxies = await self.scenario()
        await self.coreSteps(proxies)
        return proxies

    # Tests

    async def test_noRealJIDsForNonAdministrators(self):
        """
        VIS-6, MSG-11, RET-4, RET-5, PM-3, PJID-6, REV-4, REV-8, REV-9,
        REV-12..REV-14: with participants on both revisions, no stanza
        addressed to a non-administrator names the real JID of a user who
        does not share it: join results, participants items and
        notifications, messages, MAM results, retraction notices and
        tombstones, retransmissions, presence, disco, errors -- each in
        the reader's revision, which the search covered.
        """
        await self.busy()
        for user in OTHERS:
            mine = self.addressedTo(user)
            text = "".join(mine)
            self.assertGreater(len(mine), 20, user)
            for needle in self.needles(user):
                self.assertIn(needle, text, (user, needle))
            self.assertEqual([], self.hiddenLeaksIn(mine, user), user)

    def needles(self, user):
        """
        What C{user}'s traffic must hold for the search to mean something:
        every kind of stanza, in C{user}'s revision.
        """
        core = self.onCore(user)
        ns = NS_CORE if core else NS_MIX
        needles = [
            "<body>", "urn:xmpp:mam:2", "type='error'", "pubsub#event",
            "#darkhour@", "<presence ", "urn:xmpp:mix:presence:0",
            "type='unavailable'",
            "<join xmlns='%s' %s=" % (ns, "id" if core else "jid"),
            "<participant xmlns='%s'>" % (ns,),
            "<mix xmlns='%s'>" % (ns,),
            "<setnick xmlns='%s'>" % (ns,),
            "<retract xmlns='%s'" % (NS_MISC if core else NS_MIX,)]
        if core:
            needles.append("from='%s/" % (CHANNEL,))
        if user != "carol":
            needles.append("<retracted xmlns='%s'"
                           % (NS_MISC if core else NS_MIX,))
        return needles

    async def test_core1Answers(self):
        """
        JOIN-5, VIS-5, REV-4, REV-6, DLV-1, DLV-3: the MIX-CORE answers the
        search went through were the ones meant -- a join asking for jidmap
        gets the other nodes, a join asking for a taken nick only
        C{<error/>}; jidmap is refused to every non-administrator (items,
        MAM, subscription); a bounced core:1 copy is retransmitted after the
        marker, in core:1 form.
        """
        await self.busy()
        for user in OTHERS:
            self.assertEqual(("auth", "forbidden"), errorCondition(
                self.response(user, "jm-" + user)), user)
        for user in ("alice", "bob"):
            for iqId in ("c-mam-" + NODE_JIDMAP, "c-items-" + NODE_JIDMAP):
                self.assertEqual(("auth", "forbidden"), errorCondition(
                    self.response(user, iqId)), (user, iqId))
        join = self.response("alice", "join-alice").firstChildElement()
        self.assertEqual(
            [NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE],
            [s["node"] for s in join.elements(join.uri, "subscribe")])
        for user in ("alice", "bob"):
            if not self.onCore(user):
                continue
            conflict = self.response(user, "rj1-" + user)
            self.assertEqual(("cancel", "conflict"), errorCondition(conflict))
            self.assertEqual(["error"], [c.name for c in conflict.elements()])
            self.assertEqual(("auth", "forbidden"), errorCondition(
                self.response(user, "us2-" + user)))
            # The live copy, then the retransmission (MAM results aside).
            copies = [s.toXml() for s in self.sentTo(user, "fenny snake")
                      if s.name == "message" and s.result is None]
            self.assertEqual(2, len(copies), copies)
            for copy in copies:
                self.assertIn(" from='%s/" % (CHANNEL,), copy)


class HiddenMixin:
    """
    A JID-hidden channel, where bob's C{prefer visible} shows nothing.
    """


class MaybeVisibleMixin:
    """
    A jid-maybe-visible channel where bob shares his JID.
    """

    visibility = "jid-maybe-visible"
    preferences = {"bob": "always"}
    sharing = ("bob",)

    async def test_sharedJIDVisible(self):
        """
        VIS-3, X403-3, NODE-7, REV-8, REV-12: bob's JID, which he shares,
        reaches the others: in presence (XEP-0403 C{<jid/>}) and
        jidmap-visible for all, in participants items and live messages
        for a MIX-CORE reader; the search finds it, and no one else's.
        """
        await self.busy()
        for user in ("alice", "carol"):
            mine = self.addressedTo(user)
            self.assertEqual({"bob"}, {other for other, _, _ in
                                       self.leaksIn(mine, user)}, user)
            needles = ["<mix xmlns='urn:xmpp:mix:presence:0'><jid>%s/"
                       % (bare("bob"),)]
            if self.onCore(user):
                needles += ["<jid>%s</jid></participant>" % (bare("bob"),),
                            "<jid>%s</jid></mix>" % (bare("bob"),)]
            for needle in needles:
                self.assertIn(needle, "".join(mine), (user, needle))
        self.assertIn("<jid>%s</jid>" % (bare("bob"),), self.response(
            "alice", "c-items-" + NODE_JIDMAP_VISIBLE).toXml())

    async def assertHiddenAfter(self, *changes):
        """
        With bob online while he shares, make C{changes} (functions
        returning awaitables); from then on, nothing alice receives names
        bob: not his presence (replayed on a probe, to a new client, read
        from the node, or new), messages, participants and jidmap-visible
        items and notifications, MAM.
        """
        proxies = await self.busy()
        await self.presence("bob", "<show>chat</show>")
        self.assertIn("<jid>%s</jid>" % (full("bob"),),
                      self.addressedTo("alice")[-1])
        for change in changes:
            await change()
        before = len(self.addressedTo("alice"))
        await self.presence("alice", kind="probe", bareJID=True)
        await self.presence("alice", "<show>chat</show>", second=True)
        await self.items("alice", NODE_PRESENCE, "h-presence")
        await self.say("bob", "Something wicked this way comes", "h1")
        await self.presence("bob", "<show>dnd</show>")
        await self.reads("alice", proxies["owner"], "h-")
        after = self.addressedTo("alice")[before:]
        self.assertIn("Something wicked", "".join(after))
        self.assertEqual([], self.leaksIn(after, "alice"))

    def test_unsharedJIDHidden(self):
        """
        VIS-6, VIS-8, PREF-8: once bob stops sharing his JID (C{prefer
        not}), nothing sent to the others names it any more.
        """
        return self.assertHiddenAfter(
            lambda: self.prefer("bob", "prefer not", "unshare"))

    def test_hiddenChannelHidesJID(self):
        """
        VIS-3, VIS-4, VIS-6: bob would still show his JID (C{prefer
        visible}), but the owner makes the channel JID-hidden: nothing
        sent to the others names it any more.
        """
        return self.assertHiddenAfter(
            lambda: self.prefer("bob", "prefer visible", "visible"),
            lambda: self.configure("jid-hidden", "hide"))


class FlippedMixin:
    """
    The revisions the other way round: the owner, alice and carol on
    C{urn:xmpp:mix:1}, bob on MIX-CORE.
    """

    revisions = {"owner": NS_MIX, "alice": NS_MIX, "bob": NS_CORE,
                 "carol": NS_MIX}


class HiddenMemoryTests(MemoryStoreMixin, HiddenMixin, CoreLeakTestsMixin,
                        unittest.TestCase):
    pass


class HiddenPgsqlTests(PgsqlStoreMixin, HiddenMixin, CoreLeakTestsMixin,
                       unittest.TestCase):
    pass


class MaybeVisibleMemoryTests(MemoryStoreMixin, MaybeVisibleMixin,
                              CoreLeakTestsMixin, unittest.TestCase):
    pass


class MaybeVisiblePgsqlTests(PgsqlStoreMixin, MaybeVisibleMixin,
                             CoreLeakTestsMixin, unittest.TestCase):
    pass


class FlippedHiddenMemoryTests(MemoryStoreMixin, FlippedMixin, HiddenMixin,
                               CoreLeakTestsMixin, unittest.TestCase):
    pass


class FlippedHiddenPgsqlTests(PgsqlStoreMixin, FlippedMixin, HiddenMixin,
                              CoreLeakTestsMixin, unittest.TestCase):
    pass


class FlippedMaybeVisibleMemoryTests(MemoryStoreMixin, FlippedMixin,
                                     MaybeVisibleMixin, CoreLeakTestsMixin,
                                     unittest.TestCase):
    pass


class FlippedMaybeVisiblePgsqlTests(PgsqlStoreMixin, FlippedMixin,
                                    MaybeVisibleMixin, CoreLeakTestsMixin,
                                    unittest.TestCase):
    pass
