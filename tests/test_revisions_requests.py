"""
The requests of both protocol revisions, answered per request
(doc/protocol-revisions.md §3.1-3.8, §3.17, §4, §7 "Disco", "Per request,
each IQ", "Join, core:1", "Join nick", "Join errors in core:1", "slixmpp
nested subscribe"), on literal XML.

A request in MIX-CORE's C{urn:xmpp:mix:core:1} (or MIX-ANON's
C{urn:xmpp:mix:anon:0}, MIX-MISC's C{urn:xmpp:mix:misc:0}) is answered in
that namespace; the same request in C{urn:xmpp:mix:1} is answered as
before (test_join, test_lifecycle, test_preferences, test_invitations and
test_registration keep proving that).  The renderings of node items,
notifications and messages per revision are tested elsewhere.
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_ALLOWED, NODE_INFO, NODE_JIDMAP,
    NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE, NS_DISCO_INFO, NS_MIX,
    parse, serviceSettings, submitForm)
from tests.pgsql import PgsqlStoreMixin

NS_CORE = "urn:xmpp:mix:core:1"
NS_ANON = "urn:xmpp:mix:anon:0"
NS_MISC = "urn:xmpp:mix:misc:0"
NS_ADMIN = "urn:xmpp:mix:admin:0"
NS_PAM2 = "urn:xmpp:mix:pam:2"

NODE_BOGUS = "urn:example:cauldron"

#: The id ejabberd 23.01 gives a join it relays (doc/protocol-revisions.md
#: §3.4.1).
RELAYED_ID = "rr-1795249292853-2101224444579628310-vSO5cGR8XjQz3qlAj-22639412"

#: A channel with allowed and banned nodes whose allowed node lists hag66
#: and hecate only (as in test_invitations).
RESTRICTED = submitForm(("Nodes Present", ["participants", "allowed",
                                           "banned"]),
                        ("Allowed Node Subscription", "participants"))


def subscribes(*nodes, name="subscribe"):
    return "".join("<%s node='%s'/>" % (name, n) for n in nodes)


def prefsResult(formType, visibility="default"):
    """
    The preferences result form (JOIN-11, PREF-3), literal, with FORM_TYPE
    C{formType}.
    """
    return (
        "<x xmlns='jabber:x:data' type='result'>"
        "<field type='hidden' var='FORM_TYPE'><value>%s</value></field>"
        "<field type='list-single' var='JID Visibility'>"
        "<value>%s</value></field>"
        "<field type='list-single' var='Private Messages'>"
        "<value>allow</value></field>"
        "<field type='list-single' var='vCard'><value>block</value></field>"
        "<field type='list-single' var='Presence'><value>share</value>"
        "</field></x>" % (formType, visibility))


class RequestsTestsMixin(MIXTestMixin):
    """
    Channel C{coven}, created by hag66 in C{urn:xmpp:mix:1}.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.h.take()

    async def exchange(self, xml):
        """
        Send an IQ; return its one response serialized, as it went out.
        Other stanzas sent meanwhile are dropped.
        """
        request = parse(xml)
        await self.h.receive(request)
        head = " id='%s' " % (request["id"],)
        responses = [s for s in self.h.raw()
                     if s.startswith("<iq ") and head in s.split(">")[0]]
        self.assertEqual(1, len(responses), responses)
        return responses[0]

    def joinXML(self, body, sender=HECATE, namespace=NS_CORE,
                iqId=RELAYED_ID, to=COVEN):
        return ("<iq type='set' id='%s' from='%s' to='%s'>"
                "<join xmlns='%s'>%s</join></iq>"
                % (iqId, sender, to, namespace, body))

    async def join(self, body, **kwargs):
        return await self.h.iq(self.joinXML(body, **kwargs))

    async def participant(self, bare, channel="coven"):
        return await self.h.store.getParticipant(channel, bare)

    async def subscriptions(self, bare, channel="coven"):
        return await self.h.store.getSubscriptions(channel, bare)

    def assertOnlyError(self, response, errorType, condition):
        """
        The response is an error whose one child is C{<error/>} (REV-6).
        """
        self.assertError(response, errorType, condition)
        self.assertEqual(["error"], [c.name for c in response.elements()],
                         response.toXml())

    async def restrict(self, allowed=(HAG66, HECATE)):
        """
        Turn C{coven} into a channel only C{allowed} may join.
        """
        self.assertResult(await self.h.create("witches", form=RESTRICTED))
        channel = await self.h.store.getChannel("witches")
        channel.allowed = allowed
        await self.h.store.updateChannel(channel)
        self.h.take()
        return "witches@" + DOMAIN

    # Disco (REV-1, §3.1, §3.2)

    async def test_serviceInfoBothRevisions(self):
        """
        DISCO-1..6, REV-1, REV-15: the service answers with both
        identities, each urn:xmpp:mix:1 feature followed by its
        urn:xmpp:mix:core:1 twin, and the nick-register feature of both
        registration namespaces.
        """
        response = await self.exchange(
            "<iq type='get' id='d1' from='%s' to='%s'><query xmlns='%s'/>"
            "</iq>" % (HAG66_FULL, DOMAIN, NS_DISCO_INFO))
        self.assertEqual(
            "<iq to='%s' from='%s' id='d1' type='result'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'>"
            "<identity category='conference' type='text'"
            " name='MIX channel service'/>"
            "<identity category='conference' type='mix'"
            " name='MIX channel service'/>"
            "<feature var='urn:xmpp:mix:1'/>"
            "<feature var='urn:xmpp:mix:core:1'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/>"
            "<feature var='urn:xmpp:mix:1#nick-register'/>"
            "<feature var='urn:xmpp:mix:misc:0#nick-register'/>"
            "<feature var='vcard-temp'/>"
            "<feature var='urn:ietf:params:xml:ns:vcard-4.0'/>"
            "<feature var='urn:xmpp:mix:1#searchable'/>"
            "<feature var='urn:xmpp:mix:core:1#searchable'/>"
            "<feature var='urn:xmpp:mix:1#create-channel'/>"
            "<feature var='urn:xmpp:mix:core:1#create-channel'/>"
            "</query></iq>" % (HAG66_FULL, DOMAIN), response)

    async def test_channelInfoCore(self):
        """
        CHAN-1, CHAN-2, AMB-41, §3.2: the channel's disco#info has
        urn:xmpp:mix:core:1 after urn:xmpp:mix:1, with node='mix' (echoed)
        and without.
        """
        features = (
            "<identity category='conference' type='mix' name='coven'/>"
            "<feature var='urn:xmpp:mix:1'/>"
            "<feature var='urn:xmpp:mix:core:1'/>"
            "<feature var='urn:xmpp:mam:2'/>"
            "<feature var='urn:xmpp:mam:1'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/>")
        for node in (" node='mix'", ""):
            response = await self.exchange(
                "<iq type='get' id='d1' from='%s' to='%s'>"
                "<query xmlns='%s'%s/></iq>"
                % (HAG66_FULL, COVEN, NS_DISCO_INFO, node))
            self.assertEqual(
                "<iq to='%s' from='%s' id='d1' type='result'>"
                "<query xmlns='http://jabber.org/protocol/disco#info'%s>%s"
                "</query></iq>" % (HAG66_FULL, COVEN, node, features),
                response)

    # create, destroy (§3.3)

    async def test_createCore(self):
        """
        CRE-1, §3.3: a create in urn:xmpp:mix:core:1 (as slixmpp sends it)
        is answered in urn:xmpp:mix:core:1 and creates the channel.
        """
        response = await self.exchange(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create xmlns='urn:xmpp:mix:core:1' channel='witches'/></iq>"
            % (HAG66_FULL, DOMAIN))
        self.assertEqual(
            "<iq to='%s' from='%s' id='c1' type='result'>"
            "<create xmlns='urn:xmpp:mix:core:1' channel='witches'/></iq>"
            % (HAG66_FULL, DOMAIN), response)
        self.assertIsNot(None, await self.h.store.getChannel("witches"))

    async def test_createAdhocCore(self):
        """
        CRE-7, §3.3: an ad hoc create in urn:xmpp:mix:core:1 names the new
        channel in a urn:xmpp:mix:core:1 result.
        """
        response = await self.h.iq(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create xmlns='urn:xmpp:mix:core:1'/></iq>"
            % (HAG66_FULL, DOMAIN))
        self.assertResult(response)
        create = response.firstChildElement()
        self.assertEqual((NS_CORE, "create"), (create.uri, create.name))
        self.assertIsNot(
            None, await self.h.store.getChannel(create["channel"]))

    async def test_createCoreForm(self):
        """
        CRE-3, §3.3: a MIX-CORE create may carry a form whose FORM_TYPE is
        urn:xmpp:mix:1, MIX-CORE's or MIX-ADMIN's; another FORM_TYPE is a
        bad-request.
        """
        form = ("Messages Node Subscription", "anyone")
        for name, formType in (("a", NS_MIX), ("b", NS_CORE),
                               ("c", NS_ADMIN)):
            response = await self.h.iq(
                "<iq type='set' id='c1' from='%s' to='%s'>"
                "<create xmlns='%s' channel='%s'>%s</create></iq>"
                % (HAG66_FULL, DOMAIN, NS_CORE, name,
                   submitForm(form, formType=formType)))
            self.assertResult(response)
            channel = await self.h.store.getChannel(name)
            self.assertEqual("anyone",
                             channel.config["Messages Node Subscription"])
        response = await self.h.iq(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create xmlns='%s' channel='d'>%s</create></iq>"
            % (HAG66_FULL, DOMAIN, NS_CORE,
               submitForm(form, formType="urn:xmpp:mix:0")))
        self.assertOnlyError(response, "modify", "bad-request")
        self.assertIs(None, await self.h.store.getChannel("d"))

    async def test_destroyCore(self):
        """
        CRE-9, §3.3: a destroy in urn:xmpp:mix:core:1, built by hand as
        slixmpp 1.17 cannot, gets the empty result; the channel is gone.
        """
        response = await self.exchange(
            "<iq type='set' id='x1' from='%s' to='%s'>"
            "<destroy xmlns='urn:xmpp:mix:core:1' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN))
        self.assertEqual(
            "<iq to='%s' from='%s' id='x1' type='result'/>"
            % (HAG66_FULL, DOMAIN), response)
        self.assertIs(None, await self.h.store.getChannel("coven"))

    # join, core:1 (§3.4)

    async def test_joinCoreRelayed(self):
        """
        JOIN-1, JOIN-2, REV-2..REV-6: a MIX-CORE join relayed from the bare
        JID (as ejabberd 23.01's MIX-PAM relays it, nick first) is answered
        with exactly one child, C{<join xmlns='urn:xmpp:mix:core:1' id=P
        jid='P#coven@…'>} with the subscribed nodes and the nick asked
        for; P is the participant's proxy id, and the participant keeps the
        revision and the nick.
        """
        response = await self.exchange(self.joinXML(
            "<nick>hecate</nick>"
            + subscribes(NODE_MESSAGES, NODE_PARTICIPANTS)))
        record = await self.participant(HECATE)
        proxyId = record.proxyId
        self.assertTrue(proxyId)
        self.assertEqual(
            "<iq to='%s' from='%s' id='%s' type='result'>"
            "<join xmlns='urn:xmpp:mix:core:1' id='%s' jid='%s#coven@%s'>"
            "<subscribe node='urn:xmpp:mix:nodes:messages'/>"
            "<subscribe node='urn:xmpp:mix:nodes:participants'/>"
            "<nick>hecate</nick></join></iq>"
            % (HECATE, COVEN, RELAYED_ID, proxyId, proxyId, DOMAIN),
            response)
        self.assertEqual("hecate", record.nick)
        self.assertEqual(NS_CORE, record.revision)
        self.assertEqual({NODE_MESSAGES, NODE_PARTICIPANTS},
                         await self.subscriptions(HECATE))

    async def test_joinCoreGeneratedNick(self):
        """
        REV-5, NICK-5: a MIX-CORE join without C{<nick/>}, or with an
        empty one, gets a nick from the channel, reported in the result.
        """
        for user, nick in ((HECATE, ""), (CAT, "<nick/>")):
            response = await self.join(subscribes(NODE_MESSAGES) + nick,
                                       sender=user)
            self.assertResult(response)
            record = await self.participant(user)
            self.assertTrue(record.nick)
            self.assertEqual([record.nick],
                             [str(n) for n in
                              response.join.elements(NS_CORE, "nick")])

    async def test_joinCoreTakenNick(self):
        """
        REV-5, REV-6, NICK-3: a MIX-CORE join asking for a nick another
        participant has fails with only C{<error/>} (conflict); nobody
        joins and nothing is subscribed.
        """
        self.assertResult(await self.h.join(HAG66))
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.h.take()
        response = await self.join(
            "<nick>thirdwitch</nick>" + subscribes(NODE_MESSAGES))
        self.assertOnlyError(response, "cancel", "conflict")
        self.assertIs(None, await self.participant(HECATE))
        self.assertEqual(set(), await self.subscriptions(HECATE))

    async def test_joinCoreInvalidNick(self):
        """
        REV-5, REV-6, NICK-2: a nick the channel refuses (longer than 64
        characters) fails the join with only C{<error/>} (not-acceptable);
        nobody joins.
        """
        response = await self.join(
            "<nick>%s</nick>%s" % ("x" * 65, subscribes(NODE_MESSAGES)))
        self.assertOnlyError(response, "modify", "not-acceptable")
        self.assertIs(None, await self.participant(HECATE))

    async def test_joinCoreNothingSubscribable(self):
        """
        JOIN-5, REV-6: a MIX-CORE join of which no node can be subscribed
        is answered with only C{<error/>}, the condition of the first
        node's failure, no echo; the same join in urn:xmpp:mix:1 still
        echoes the failed nodes before C{<error/>}.
        """
        nodes = subscribes(NODE_BOGUS, NODE_ALLOWED)
        response = await self.join(nodes)
        self.assertOnlyError(response, "cancel", "item-not-found")
        self.assertIs(None, await self.participant(HECATE))
        response = await self.join(nodes, namespace=NS_MIX)
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual(
            "<join xmlns='urn:xmpp:mix:1'>%s</join>"
            % (subscribes(NODE_BOGUS, NODE_ALLOWED),),
            response.firstChildElement().toXml())
        self.assertIs(None, await self.participant(HECATE))

    async def test_joinCoreForbiddenNode(self):
        """
        JOIN-5, REV-6: refused for rights (jidmap of a jid-hidden channel),
        a MIX-CORE join gets only C{<error/>} (forbidden); urn:xmpp:mix:1
        echoes the node.
        """
        response = await self.join(subscribes(NODE_JIDMAP))
        self.assertOnlyError(response, "auth", "forbidden")
        response = await self.join(subscribes(NODE_JIDMAP), namespace=NS_MIX)
        self.assertEqual(["join", "error"],
                         [c.name for c in response.elements()])

    async def test_joinCoreForbidden(self):
        """
        JOIN-6, REV-6: a MIX-CORE join of a user not allowed in the channel
        gets only C{<error/>} (forbidden).
        """
        witches = await self.restrict()
        response = await self.join(subscribes(NODE_MESSAGES), sender=CAT,
                                   to=witches)
        self.assertOnlyError(response, "auth", "forbidden")
        self.assertIs(None, await self.participant(CAT, "witches"))

    async def test_joinCoreBadRequest(self):
        """
        REV-6, ERR-7: a MIX-CORE join of a channel that does not exist, or
        with a C{channel} attribute naming another channel (AMB-16), gets
        only C{<error/>}.
        """
        response = await self.join(subscribes(NODE_MESSAGES),
                                   to="nowhere@" + DOMAIN)
        self.assertOnlyError(response, "cancel", "item-not-found")
        response = await self.h.iq(
            "<iq type='set' id='j2' from='%s' to='%s'>"
            "<join xmlns='%s' channel='witches'>%s</join></iq>"
            % (HECATE, COVEN, NS_CORE, subscribes(NODE_MESSAGES)))
        self.assertOnlyError(response, "modify", "bad-request")

    async def test_joinCorePrefs(self):
        """
        JOIN-11, REV-4, REV-11: a join's preferences form may state
        FORM_TYPE urn:xmpp:mix:1, urn:xmpp:mix:anon:0 or
        urn:xmpp:mix:core:1, in either revision; the result's form echoes
        the FORM_TYPE received, after C{<nick/>}.
        """
        cases = ((HECATE, NS_CORE, NS_ANON), (CAT, NS_CORE, NS_CORE),
                 (HAG66, NS_MIX, NS_ANON))
        for user, namespace, formType in cases:
            response = await self.join(
                subscribes(NODE_MESSAGES) + submitForm(
                    ("JID Visibility", "never"), formType=formType),
                sender=user, namespace=namespace)
            self.assertResult(response)
            join = response.firstChildElement()
            self.assertEqual(namespace, join.uri)
            children = list(join.elements())
            self.assertEqual(
                prefsResult(formType, "never"), children[-1].toXml())
            if namespace == NS_CORE:
                self.assertEqual("nick", children[-2].name)
            record = await self.participant(user)
            self.assertEqual("never", record.prefs["JID Visibility"])

    async def test_joinCoreWithoutPrefs(self):
        """
        JOIN-11, REV-4: without a form in the join, the result has none.
        """
        response = await self.join(subscribes(NODE_MESSAGES))
        self.assertEqual(["subscribe", "nick"],
                         [c.name for c in response.join.elements()])

    async def test_joinCoreNestedSubscribe(self):
        """
        REV-7, §3.4.3: slixmpp 1.17's join (direct, from a full JID, the
        nodes nested in a node-less C{<subscribe/>}) is read as the nested
        nodes in urn:xmpp:mix:core:1.
        """
        response = await self.h.iq(
            "<iq type='set' to='%s' id='j1' from='%s'>"
            "<join xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick>"
            "<subscribe><subscribe node='urn:xmpp:mix:nodes:messages'/>"
            "<subscribe node='urn:xmpp:mix:nodes:participants'/></subscribe>"
            "</join></iq>" % (COVEN, CAT_FULL))
        self.assertResult(response)
        self.assertEqual(
            [NODE_MESSAGES, NODE_PARTICIPANTS],
            [s["node"]
             for s in response.join.elements(NS_CORE, "subscribe")])
        self.assertEqual({NODE_MESSAGES, NODE_PARTICIPANTS},
                         await self.subscriptions(CAT))
        self.assertEqual("thirdwitch", (await self.participant(CAT)).nick)

    async def test_joinNestedSubscribeRefused(self):
        """
        REV-7: the nested form is refused (bad-request) in urn:xmpp:mix:1,
        with the JOIN-5-free error of any bad request; in
        urn:xmpp:mix:core:1 a node-less C{<subscribe/>} with nothing
        inside, or nested two levels deep, is refused too.  Nobody joins.
        """
        bodies = (
            (NS_MIX, "<subscribe>%s</subscribe>" % subscribes(NODE_MESSAGES)),
            (NS_CORE, "<subscribe/>"),
            (NS_CORE, "<subscribe><subscribe>%s</subscribe></subscribe>"
             % subscribes(NODE_MESSAGES)),
            (NS_CORE, "<subscribe><subscribe/></subscribe>"))
        for namespace, body in bodies:
            response = await self.join(body, sender=CAT_FULL,
                                       namespace=namespace)
            self.assertOnlyError(response, "modify", "bad-request")
            self.assertIs(None, await self.participant(CAT))

    async def test_rejoinSwitchesRevision(self):
        """
        REV-2: the revision is the namespace of the last join; a re-join in
        urn:xmpp:mix:1 after a MIX-CORE join switches it back, and its
        result is 0.9.5's (C{jid} only, no nick) although the participant
        has a nick.
        """
        self.assertResult(await self.join(subscribes(NODE_MESSAGES)))
        self.assertEqual(NS_CORE, (await self.participant(HECATE)).revision)
        response = await self.exchange(self.joinXML(
            subscribes(NODE_MESSAGES), namespace=NS_MIX, iqId="j2"))
        record = await self.participant(HECATE)
        self.assertEqual(NS_MIX, record.revision)
        self.assertTrue(record.nick)
        self.assertEqual(
            "<iq to='%s' from='%s' id='j2' type='result'>"
            "<join xmlns='urn:xmpp:mix:1' jid='%s#coven@%s'>"
            "<subscribe node='urn:xmpp:mix:nodes:messages'/></join></iq>"
            % (HECATE, COVEN, record.proxyId, DOMAIN), response)
        self.assertResult(await self.join(subscribes(NODE_MESSAGES)))
        self.assertEqual(NS_CORE, (await self.participant(HECATE)).revision)

    async def test_joinNickInMIX1(self):
        """
        REV-5: a C{<nick/>} in a urn:xmpp:mix:1 join is applied too; the
        result keeps 0.9.5's shape.
        """
        response = await self.join(
            subscribes(NODE_MESSAGES) + "<nick>hecate</nick>",
            namespace=NS_MIX)
        self.assertResult(response)
        self.assertEqual(["jid"], list(response.join.attributes))
        self.assertEqual(["subscribe"],
                         [c.name for c in response.join.elements()])
        record = await self.participant(HECATE)
        self.assertEqual(("hecate", NS_MIX), (record.nick, record.revision))

    async def test_clientJoinAtChannel(self):
        """
        §3.4.4: a MIX-PAM C{<client-join/>} addressed to a channel is no
        join: C{service-unavailable}, and nobody joins.  Like every answer
        to a request nobody serves, the error is the only child (REV-6).
        """
        response = await self.h.iq(
            "<iq type='set' id='cj1' from='%s' to='%s'>"
            "<client-join xmlns='%s' channel='%s'>"
            "<join xmlns='urn:xmpp:mix:core:1'>%s</join></client-join></iq>"
            % (HECATE_FULL, COVEN, NS_PAM2, COVEN,
               subscribes(NODE_MESSAGES)))
        self.assertError(response, "cancel", "service-unavailable")
        self.assertEqual(["error"], [c.name for c in response.elements()])
        self.assertIs(None, await self.participant(HECATE))

    async def test_joinMiscNotServed(self):
        """
        REV-15: MIX-MISC's example join C{<join
        xmlns='urn:xmpp:mix:misc:0'>} is no join of either revision:
        C{service-unavailable}, and nobody joins.
        """
        response = await self.join(subscribes(NODE_MESSAGES),
                                   namespace=NS_MISC)
        self.assertError(response, "cancel", "service-unavailable")
        self.assertIs(None, await self.participant(HECATE))

    # leave, update-subscription, setnick (§3.5-3.7)

    async def test_leaveCore(self):
        """
        JOIN-19, §3.5: a MIX-CORE leave is answered
        C{<leave xmlns='urn:xmpp:mix:core:1'/>}; the participant is gone.
        """
        self.assertResult(await self.join(subscribes(NODE_MESSAGES)))
        response = await self.exchange(
            "<iq type='set' id='l1' from='%s' to='%s'>"
            "<leave xmlns='urn:xmpp:mix:core:1'/></iq>" % (HECATE, COVEN))
        self.assertEqual(
            "<iq to='%s' from='%s' id='l1' type='result'>"
            "<leave xmlns='urn:xmpp:mix:core:1'/></iq>" % (HECATE, COVEN),
            response)
        self.assertIs(None, await self.participant(HECATE))

    async def test_leaveCoreUnknownChannel(self):
        """
        REV-6: a MIX-CORE leave of a channel that does not exist gets only
        C{<error/>} (item-not-found).
        """
        response = await self.h.iq(
            "<iq type='set' id='l1' from='%s' to='nowhere@%s'>"
            "<leave xmlns='urn:xmpp:mix:core:1'/></iq>" % (CAT, DOMAIN))
        self.assertOnlyError(response, "cancel", "item-not-found")

    async def test_updateSubscriptionCore(self):
        """
        JOIN-16, JOIN-17, §3.6: slixmpp's update-subscription (a subscribe
        and an unsubscribe) is answered in urn:xmpp:mix:core:1, with the
        bare JID (0.14.x) and both lists.
        """
        self.assertResult(await self.join(
            subscribes(NODE_MESSAGES, NODE_PRESENCE), sender=HECATE,
            namespace=NS_MIX))
        response = await self.exchange(
            "<iq type='set' to='%s' id='u1' from='%s'>"
            "<update-subscription xmlns='urn:xmpp:mix:core:1'>"
            "<subscribe node='urn:xmpp:mix:nodes:info'/>"
            "<unsubscribe node='urn:xmpp:mix:nodes:presence'/>"
            "</update-subscription></iq>" % (COVEN, HECATE_FULL))
        self.assertEqual(
            "<iq to='%s' from='%s' id='u1' type='result'>"
            "<update-subscription xmlns='urn:xmpp:mix:core:1' jid='%s'>"
            "<subscribe node='urn:xmpp:mix:nodes:info'/>"
            "<unsubscribe node='urn:xmpp:mix:nodes:presence'/>"
            "</update-subscription></iq>" % (HECATE_FULL, COVEN, HECATE),
            response)
        self.assertEqual({NODE_MESSAGES, NODE_INFO},
                         await self.subscriptions(HECATE))
        # REV-2: only a join sets the revision.
        self.assertEqual(NS_MIX, (await self.participant(HECATE)).revision)

    async def test_setNickCore(self):
        """
        NICK-1, §3.7: slixmpp's setnick is answered in urn:xmpp:mix:core:1
        with the nick assigned; the revision stays the join's (REV-2).
        """
        self.assertResult(await self.h.join(HAG66))
        response = await self.exchange(
            "<iq type='set' to='%s' id='n1' from='%s'>"
            "<setnick xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick>"
            "</setnick></iq>" % (COVEN, HAG66_FULL))
        self.assertEqual(
            "<iq to='%s' from='%s' id='n1' type='result'>"
            "<setnick xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick>"
            "</setnick></iq>" % (HAG66_FULL, COVEN), response)
        record = await self.participant(HAG66)
        self.assertEqual(("thirdwitch", NS_MIX),
                         (record.nick, record.revision))

    async def test_setNickCoreTaken(self):
        """
        NICK-3, REV-6: a MIX-CORE setnick of a taken nick gets only
        C{<error/>} (conflict).
        """
        self.assertResult(await self.h.join(HAG66))
        self.assertResult(await self.h.join(HECATE))
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        response = await self.h.iq(
            "<iq type='set' to='%s' id='n2' from='%s'>"
            "<setnick xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick>"
            "</setnick></iq>" % (COVEN, HECATE_FULL))
        self.assertOnlyError(response, "cancel", "conflict")

    # user preferences (§3.8, REV-11)

    async def test_preferencesTemplateAnon(self):
        """
        PREF-2, REV-11: a template query in urn:xmpp:mix:anon:0 is answered
        in C{<user-preference xmlns='urn:xmpp:mix:anon:0'>} with a form of
        FORM_TYPE urn:xmpp:mix:anon:0.
        """
        response = await self.exchange(
            "<iq type='get' id='p1' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:anon:0'/></iq>"
            % (HECATE_FULL, COVEN))
        self.assertEqual(
            "<iq to='%s' from='%s' id='p1' type='result'>"
            "<user-preference xmlns='urn:xmpp:mix:anon:0'>"
            "<x xmlns='jabber:x:data' type='form'>"
            "<field type='hidden' var='FORM_TYPE'>"
            "<value>urn:xmpp:mix:anon:0</value></field>"
            "<field type='list-single' var='JID Visibility'"
            " label='Preference for JID visibility'><value>default</value>"
            "<option label='Default behaviour'><value>default</value>"
            "</option>"
            "<option label='JID never shown'><value>never</value></option>"
            "<option label='JID always shown'><value>always</value></option>"
            "<option label='Try not to show JID'><value>prefer not</value>"
            "</option>"
            "<option label='Show JID when the channel allows'>"
            "<value>prefer visible</value></option></field>"
            "<field type='list-single' var='Private Messages'"
            " label='Private messages'><value>allow</value>"
            "<option label='Allow'><value>allow</value></option>"
            "<option label='Block'><value>block</value></option></field>"
            "<field type='list-single' var='vCard' label='vCard retrieval'>"
            "<value>block</value>"
            "<option label='Allow'><value>allow</value></option>"
            "<option label='Block'><value>block</value></option></field>"
            "<field type='list-single' var='Presence'"
            " label='Presence sharing'><value>share</value>"
            "<option label='Share'><value>share</value></option>"
            "<option label='Do not share'><value>not share</value></option>"
            "</field></x></user-preference></iq>" % (HECATE_FULL, COVEN),
            response)

    async def test_preferencesSetAnon(self):
        """
        PREF-3, REV-11: an update in urn:xmpp:mix:anon:0 is answered in
        that namespace, FORM_TYPE urn:xmpp:mix:anon:0, whatever FORM_TYPE
        the submitted form stated (0.9.5's, MIX-ANON's or MIX-CORE's).
        """
        self.assertResult(await self.h.join(HECATE))
        for value, formType in (("never", NS_MIX), ("always", NS_ANON),
                                ("prefer not", NS_CORE)):
            response = await self.exchange(
                "<iq type='set' id='p2' from='%s' to='%s'>"
                "<user-preference xmlns='urn:xmpp:mix:anon:0'>%s"
                "</user-preference></iq>"
                % (HECATE_FULL, COVEN, submitForm(
                    ("JID Visibility", value), formType=formType)))
            if value == "always":
                # Not in a jid-hidden channel (PREF-8): refused, in error.
                self.assertIn("type='error'", response)
                self.assertIn("<not-acceptable", response)
                continue
            self.assertEqual(
                "<iq to='%s' from='%s' id='p2' type='result'>"
                "<user-preference xmlns='urn:xmpp:mix:anon:0'>%s"
                "</user-preference></iq>"
                % (HECATE_FULL, COVEN, prefsResult(NS_ANON, value)),
                response)
            record = await self.participant(HECATE)
            self.assertEqual(value, record.prefs["JID Visibility"])

    async def test_preferencesSetMIX1AnonForm(self):
        """
        PREF-3, REV-11: a urn:xmpp:mix:1 update may carry a form of
        FORM_TYPE urn:xmpp:mix:anon:0; the answer stays urn:xmpp:mix:1.
        """
        self.assertResult(await self.h.join(HECATE))
        response = await self.exchange(
            "<iq type='set' id='p3' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:1'>%s</user-preference>"
            "</iq>" % (HECATE_FULL, COVEN, submitForm(
                ("JID Visibility", "never"), formType=NS_ANON)))
        self.assertEqual(
            "<iq to='%s' from='%s' id='p3' type='result'>"
            "<user-preference xmlns='urn:xmpp:mix:1'>%s</user-preference>"
            "</iq>" % (HECATE_FULL, COVEN, prefsResult(NS_MIX, "never")),
            response)

    async def test_preferencesOtherFormType(self):
        """
        PREF-3, PREF-9: a FORM_TYPE of none of the revisions is a
        bad-request in urn:xmpp:mix:anon:0 too.
        """
        self.assertResult(await self.h.join(HECATE))
        response = await self.h.iq(
            "<iq type='set' id='p4' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:anon:0'>%s"
            "</user-preference></iq>" % (HECATE_FULL, COVEN, submitForm(
                ("JID Visibility", "never"), formType="urn:xmpp:mix:0")))
        self.assertOnlyError(response, "modify", "bad-request")

    async def test_preferencesCoreNotServed(self):
        """
        REV-11: MIX-CORE defines no user preferences; a
        C{<user-preference/>} in urn:xmpp:mix:core:1 is
        C{service-unavailable}.
        """
        response = await self.h.iq(
            "<iq type='get' id='p5' from='%s' to='%s'>"
            "<user-preference xmlns='urn:xmpp:mix:core:1'/></iq>"
            % (HECATE_FULL, COVEN))
        self.assertError(response, "cancel", "service-unavailable")

    # invitations and nick registration (§3.17, REV-15)

    async def test_inviteMisc(self):
        """
        INV-1, REV-15: an C{<invite/>} in urn:xmpp:mix:misc:0 (MIX-MISC's
        example) is answered in urn:xmpp:mix:misc:0, the C{<invitation/>}
        and its fields in it too.
        """
        witches = await self.restrict()
        self.assertResult(await self.h.join(HAG66, witches))
        response = await self.exchange(
            "<iq from='%s' id='kl2fax27' to='%s' type='get'>"
            "<invite xmlns='urn:xmpp:mix:misc:0'>"
            "<invitee>cat@shakespeare.example</invitee></invite></iq>"
            % (HAG66_FULL, witches))
        head = (
            "<iq to='%s' from='%s' id='kl2fax27' type='result'>"
            "<invite xmlns='urn:xmpp:mix:misc:0'><invitation>"
            "<inviter>%s</inviter><invitee>%s</invitee>"
            "<channel>%s</channel><token>"
            % (HAG66_FULL, witches, HAG66, CAT, witches))
        self.assertEqual(head, response[:len(head)])
        self.assertTrue(
            response.endswith("</token></invitation></invite></iq>"),
            response)

    async def invitation(self, witches, namespace):
        """
        Return the fields of an invitation for cat to C{witches},
        requested by hag66 in C{namespace}, serialized without xmlns.
        """
        response = await self.h.iq(
            "<iq from='%s' id='i1' to='%s' type='get'>"
            "<invite xmlns='%s'><invitee>%s</invitee></invite></iq>"
            % (HAG66_FULL, witches, namespace, CAT))
        self.assertResult(response)
        invitation = next(response.firstChildElement().elements())
        return "".join("<%s>%s</%s>" % (c.name, c, c.name)
                       for c in invitation.elements())

    async def test_joinCoreWithInvitation(self):
        """
        JOIN-12, INV-4, REV-15: a MIX-CORE join may carry the invitation in
        urn:xmpp:mix:misc:0, in urn:xmpp:mix:1, or without xmlns (in
        urn:xmpp:mix:core:1); a urn:xmpp:mix:1 join may carry MIX-MISC's.
        Each lets in a user the channel does not allow.
        """
        witches = await self.restrict()
        self.assertResult(await self.h.join(HAG66, witches))
        cases = ((NS_CORE, " xmlns='%s'" % NS_MISC),
                 (NS_CORE, " xmlns='%s'" % NS_MIX),
                 (NS_CORE, ""),
                 (NS_MIX, " xmlns='%s'" % NS_MISC))
        for namespace, xmlns in cases:
            # Tokens issued at the same second are the same token, and a
            # token is single-use (INV-3).
            await self.h.advance(1)
            fields = await self.invitation(witches, NS_MISC)
            response = await self.join(
                subscribes(NODE_MESSAGES)
                + "<invitation%s>%s</invitation>" % (xmlns, fields),
                sender=CAT, namespace=namespace, to=witches)
            self.assertResult(response)
            self.assertEqual(namespace, response.firstChildElement().uri)
            self.assertIsNot(None, await self.participant(CAT, "witches"))
            self.assertResult(await self.h.leave(CAT, witches))
            channel = await self.h.store.getChannel("witches")
            channel.allowed = tuple(a for a in channel.allowed if a != CAT)
            await self.h.store.updateChannel(channel)

    async def test_joinInvitationOtherNamespace(self):
        """
        REV-15: an invitation in some other namespace is no invitation; the
        join of a user the channel does not allow is refused, with only
        C{<error/>} in MIX-CORE.
        """
        witches = await self.restrict()
        self.assertResult(await self.h.join(HAG66, witches))
        fields = await self.invitation(witches, NS_MIX)
        response = await self.join(
            subscribes(NODE_MESSAGES)
            + "<invitation xmlns='urn:example:other'>%s</invitation>"
            % (fields,), sender=CAT, to=witches)
        self.assertOnlyError(response, "auth", "forbidden")

    async def test_registerMisc(self):
        """
        NICK-9, REV-15: a C{<register/>} in urn:xmpp:mix:misc:0 (MIX-MISC's
        example) is answered in urn:xmpp:mix:misc:0 with the nick.
        """
        response = await self.exchange(
            "<iq type='set' from='%s' to='%s' id='7nve413p'>"
            "<register xmlns='urn:xmpp:mix:misc:0'><nick>thirdwitch</nick>"
            "</register></iq>" % (HAG66_FULL, DOMAIN))
        self.assertEqual(
            "<iq to='%s' from='%s' id='7nve413p' type='result'>"
            "<register xmlns='urn:xmpp:mix:misc:0'><nick>thirdwitch</nick>"
            "</register></iq>" % (HAG66_FULL, DOMAIN), response)
        self.assertEqual(
            "thirdwitch", (await self.h.store.getRegisteredNick(HAG66))[0])

    async def test_registerMiscConflict(self):
        """
        NICK-10, REV-15: a nick registered by another JID is a conflict in
        urn:xmpp:mix:misc:0 too.
        """
        self.assertResult(await self.h.iq(
            "<iq type='set' from='%s' to='%s' id='r1'>"
            "<register xmlns='urn:xmpp:mix:1'><nick>thirdwitch</nick>"
            "</register></iq>" % (HAG66_FULL, DOMAIN)))
        response = await self.h.iq(
            "<iq type='set' from='%s' to='%s' id='r2'>"
            "<register xmlns='urn:xmpp:mix:misc:0'><nick>thirdwitch</nick>"
            "</register></iq>" % (HECATE_FULL, DOMAIN))
        self.assertOnlyError(response, "cancel", "conflict")

    async def test_registerMiscAtChannel(self):
        """
        NICK-9, REV-15: registration is the service's, in MIX-MISC too: at
        a channel it is C{service-unavailable}.
        """
        response = await self.h.iq(
            "<iq type='set' from='%s' to='%s' id='r3'>"
            "<register xmlns='urn:xmpp:mix:misc:0'><nick>thirdwitch</nick>"
            "</register></iq>" % (HAG66_FULL, COVEN))
        self.assertError(response, "cancel", "service-unavailable")


class RestrictedServiceTestsMixin(MIXTestMixin):
    """
    A service that is not searchable and where only hag66 may create
    channels.
    """

    def makeSettings(self):
        return serviceSettings(creators=(HAG66,), searchable=False)

    async def features(self, sender):
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'><query xmlns='%s'/>"
            "</iq>" % (sender, DOMAIN, NS_DISCO_INFO))
        self.assertResult(response)
        return [f["var"] for f in response.query.elements(NS_DISCO_INFO,
                                                          "feature")]

    async def test_twinsUnderTheSameCondition(self):
        """
        DISCO-2, DISCO-3, REV-1: #searchable is in neither revision when
        the service is not searchable; #create-channel is in both for who
        may create, in neither for the others.
        """
        creator, other = (await self.features(HAG66_FULL),
                          await self.features(CAT_FULL))
        for features in (creator, other):
            for revision in (NS_MIX, NS_CORE):
                self.assertIn(revision, features)
                self.assertNotIn(revision + "#searchable", features)
        self.assertEqual(
            [NS_MIX + "#create-channel", NS_CORE + "#create-channel"],
            [f for f in creator if f.endswith("#create-channel")])
        self.assertEqual([], [f for f in other
                              if f.endswith("#create-channel")])

    async def test_createCoreRefused(self):
        """
        CRE-1, DISCO-3: who may not create is refused in MIX-CORE too,
        with only C{<error/>}.
        """
        response = await self.h.iq(
            "<iq type='set' id='c1' from='%s' to='%s'>"
            "<create xmlns='urn:xmpp:mix:core:1' channel='coven'/></iq>"
            % (CAT_FULL, DOMAIN))
        self.assertError(response, "auth", "forbidden")
        self.assertEqual(["error"], [c.name for c in response.elements()])
        self.assertIs(None, await self.h.store.getChannel("coven"))


class RequestsMemoryTests(MemoryStoreMixin, RequestsTestsMixin,
                          unittest.TestCase):
    pass


class RequestsPgsqlTests(PgsqlStoreMixin, RequestsTestsMixin,
                         unittest.TestCase):
    pass


class RestrictedServiceMemoryTests(MemoryStoreMixin,
                                   RestrictedServiceTestsMixin,
                                   unittest.TestCase):
    pass


class RestrictedServicePgsqlTests(PgsqlStoreMixin,
                                  RestrictedServiceTestsMixin,
                                  unittest.TestCase):
    pass
