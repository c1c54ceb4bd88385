"""
Service and channel discovery (DISCO-*, CHAN-1..4, MUC-3), on literal XML.
"""

from twisted.trial import unittest

from tests.helpers import (
    ANYONE_FORM, CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE,
    HECATE_FULL, MIXTestMixin, MemoryStoreMixin, NODE_BANNED, NODE_CONFIG,
    NODE_INFO, NODE_JIDMAP, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE,
    NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MIX, formValues,
    serviceSettings, submitForm)
from tests.pgsql import PgsqlStoreMixin

NS_MUC = "http://jabber.org/protocol/muc"

MIRROR = "chat.shakespeare.example"


def identities(query):
    return sorted((i.getAttribute("category"), i.getAttribute("type"),
                   i.getAttribute("name"))
                  for i in query.elements(NS_DISCO_INFO, "identity"))


def features(query):
    return [f.getAttribute("var")
            for f in query.elements(NS_DISCO_INFO, "feature")]


def forms(query):
    """
    Return C{{FORM_TYPE: {var: [values]}}} of the XEP-0128 forms.
    """
    result = {}
    for x in query.elements(NS_DATA, "x"):
        fields = formValues(x)
        formType = fields.pop("FORM_TYPE", [None])[0]
        result[formType] = (x.getAttribute("type"), fields)
    return result


def items(query):
    return [(i.getAttribute("jid"), i.getAttribute("node"))
            for i in query.elements(NS_DISCO_ITEMS, "item")]


class DiscoveryTestsMixin(MIXTestMixin):
    """
    Discovery of the service and of channels.
    """

    async def info(self, sender, to, node=None, iqid="d1"):
        nodeAttr = " node='%s'" % (node,) if node is not None else ""
        return await self.h.iq(
            "<iq type='get' id='%s' from='%s' to='%s'>"
            "<query xmlns='%s'%s/></iq>"
            % (iqid, sender, to, NS_DISCO_INFO, nodeAttr))

    async def discoItems(self, sender, to, node=None, iqid="d2"):
        nodeAttr = " node='%s'" % (node,) if node is not None else ""
        return await self.h.iq(
            "<iq type='get' id='%s' from='%s' to='%s'>"
            "<query xmlns='%s'%s/></iq>"
            % (iqid, sender, to, NS_DISCO_ITEMS, nodeAttr))

    def query(self, response, ns):
        self.assertResult(response)
        queries = list(response.elements(ns, "query"))
        self.assertEqual(1, len(queries), response.toXml())
        return queries[0]

    async def adhoc(self, sender=HAG66_FULL):
        response = await self.h.iq(
            "<iq type='set' id='a1' from='%s' to='%s'>"
            "<create xmlns='%s'/></iq>" % (sender, DOMAIN, NS_MIX))
        self.assertResult(response)
        create = response.firstChildElement()
        self.assertEqual((NS_MIX, "create"), (create.uri, create.name))
        return create.getAttribute("channel")

    # Service disco#info

    async def test_serviceIdentity(self):
        """
        DISCO-1: the service is conference/text with its configured name
        and has the feature urn:xmpp:mix:1; the response comes from the
        service to the requester.  REV-1: it is MIX-CORE's conference/mix
        too, with the same name.
        """
        response = await self.info(HAG66_FULL, DOMAIN)
        self.assertEqual(DOMAIN, response.getAttribute("from"))
        self.assertEqual(HAG66_FULL, response.getAttribute("to"))
        query = self.query(response, NS_DISCO_INFO)
        self.assertEqual(None, query.getAttribute("node"))
        self.assertEqual(
            [("conference", "mix", self.h.settings.name),
             ("conference", "text", self.h.settings.name)],
            identities(query))
        self.assertIn(NS_MIX, features(query))

    async def test_discoFeatures(self):
        """
        DISCO-9: the service advertises disco#info and disco#items.
        """
        query = self.query(await self.info(HAG66_FULL, DOMAIN), NS_DISCO_INFO)
        self.assertIn(NS_DISCO_INFO, features(query))
        self.assertIn(NS_DISCO_ITEMS, features(query))

    async def test_searchableByDefault(self):
        """
        DISCO-2: urn:xmpp:mix:1#searchable is advertised by default.
        """
        query = self.query(await self.info(HAG66_FULL, DOMAIN), NS_DISCO_INFO)
        self.assertIn(NS_MIX + "#searchable", features(query))

    async def test_createChannelAnybody(self):
        """
        DISCO-3: with no creators restriction, any user sees
        urn:xmpp:mix:1#create-channel.
        """
        query = self.query(await self.info(CAT_FULL, DOMAIN), NS_DISCO_INFO)
        self.assertIn(NS_MIX + "#create-channel", features(query))

    async def test_noMAMNorPubSubOnService(self):
        """
        DISCO-4: the service advertises no urn:xmpp:mam:* and no
        http://jabber.org/protocol/pubsub* feature, and no pubsub identity.
        """
        query = self.query(await self.info(HAG66_FULL, DOMAIN), NS_DISCO_INFO)
        for var in features(query):
            self.assertFalse(var.startswith("urn:xmpp:mam:"), var)
            self.assertFalse(
                var.startswith("http://jabber.org/protocol/pubsub"), var)
        for category, _, _ in identities(query):
            self.assertNotEqual("pubsub", category)

    async def test_noPubSubIdentityAnywhere(self):
        """
        DISCO-4, GEN-1: neither the service nor a channel (with or without
        node='mix') has a pubsub identity or pubsub feature.
        """
        await self.h.create()
        await self.h.join()
        for to, node in ((DOMAIN, None), (COVEN, "mix"), (COVEN, None)):
            query = self.query(await self.info(HAG66_FULL, to, node),
                               NS_DISCO_INFO)
            for category, _, _ in identities(query):
                self.assertNotEqual("pubsub", category, (to, node))
            for var in features(query):
                self.assertFalse(
                    var.startswith("http://jabber.org/protocol/pubsub"),
                    (to, node, var))

    async def test_noMUCWithoutMirror(self):
        """
        DISCO-10, MUC-3: without a mirror there is no mirror form and no
        MUC feature.
        """
        query = self.query(await self.info(HAG66_FULL, DOMAIN), NS_DISCO_INFO)
        self.assertEqual({}, forms(query))
        self.assertNotIn(NS_MUC, features(query))

    # Service disco#items

    async def test_itemsListsChannels(self):
        """
        DISCO-7: disco#items on the service lists existing channels as
        items with the channel JID and no node.
        """
        await self.h.create("coven")
        await self.h.create("lair", HECATE_FULL)
        response = await self.discoItems(CAT_FULL, DOMAIN)
        self.assertEqual(DOMAIN, response.getAttribute("from"))
        query = self.query(response, NS_DISCO_ITEMS)
        self.assertEqual(None, query.getAttribute("node"))
        self.assertEqual(
            sorted([(COVEN, None), ("lair@" + DOMAIN, None)]),
            sorted(items(query)))

    async def test_itemsEmpty(self):
        """
        DISCO-7: no channels, no items.
        """
        query = self.query(await self.discoItems(CAT_FULL, DOMAIN),
                           NS_DISCO_ITEMS)
        self.assertEqual([], items(query))

    async def test_itemsNoAdhoc(self):
        """
        DISCO-7, CRE-7: ad hoc channels are never listed, not even to their
        creator.
        """
        await self.h.create("coven")
        name = await self.adhoc()
        self.assertTrue(name)
        self.assertNotEqual("coven", name)
        for sender in (HAG66_FULL, CAT_FULL):
            query = self.query(await self.discoItems(sender, DOMAIN),
                               NS_DISCO_ITEMS)
            self.assertEqual([(COVEN, None)], items(query))

    async def test_itemsOnlySubscribable(self):
        """
        DISCO-7, ACL-3: a channel whose allowed node does not list the
        requester is not listed to it, but is to its owner.
        """
        await self.h.create("coven", form=submitForm(
            ("Nodes Present", ["participants", "allowed"])))
        await self.h.create("lair", HECATE_FULL)
        query = self.query(await self.discoItems(CAT_FULL, DOMAIN),
                           NS_DISCO_ITEMS)
        self.assertEqual([("lair@" + DOMAIN, None)], items(query))
        query = self.query(await self.discoItems(HAG66_FULL, DOMAIN),
                           NS_DISCO_ITEMS)
        self.assertEqual(sorted([(COVEN, None), ("lair@" + DOMAIN, None)]),
                         sorted(items(query)))

    # Channel disco#info

    async def test_channelInfo(self):
        """
        CHAN-1, CHAN-2: disco#info node='mix' on a channel: node echoed,
        identity conference/mix named after the localpart when there is no
        Name, features urn:xmpp:mix:1, urn:xmpp:mam:2 and urn:xmpp:mam:1.
        """
        await self.h.create()
        await self.h.join()
        response = await self.info(HAG66_FULL, COVEN, "mix")
        self.assertEqual(COVEN, response.getAttribute("from"))
        self.assertEqual(HAG66_FULL, response.getAttribute("to"))
        query = self.query(response, NS_DISCO_INFO)
        self.assertEqual("mix", query.getAttribute("node"))
        self.assertEqual([("conference", "mix", "coven")], identities(query))
        for var in (NS_MIX, "urn:xmpp:mam:2", "urn:xmpp:mam:1"):
            self.assertIn(var, features(query))

    async def test_channelIsNotARoom(self):
        """
        MUC-2, MUC-6, CHAN-2: a channel is no MUC room: with or without
        node='mix' its disco#info has the MIX identity only and no MUC
        feature (no password, voice or subject features: MIX does not
        provide them).
        """
        await self.h.create()
        for node in ("mix", None):
            query = self.query(await self.info(HAG66_FULL, COVEN, node),
                               NS_DISCO_INFO)
            self.assertEqual([("conference", "mix", "coven")],
                             identities(query))
            muc = [var for var in features(query)
                   if var.startswith(NS_MUC)]
            self.assertEqual([], muc)

    async def test_channelInfoName(self):
        """
        CHAN-1: the identity name is the info node's Name when set.
        """
        await self.h.create(form=submitForm(("Name", "A Dark Cave")))
        query = self.query(await self.info(HAG66_FULL, COVEN, "mix"),
                           NS_DISCO_INFO)
        self.assertEqual([("conference", "mix", "A Dark Cave")],
                         identities(query))

    async def test_channelInfoStranger(self):
        """
        CHAN-1, ACL-3: a user in the Allowed set (no allowed node) who is
        not a participant may discover the channel.
        """
        await self.h.create()
        query = self.query(await self.info(CAT_FULL, COVEN, "mix"),
                           NS_DISCO_INFO)
        self.assertEqual([("conference", "mix", "coven")], identities(query))

    async def test_channelInfoWithoutNode(self):
        """
        CHAN-2, AMB-41: disco#info on a channel without node is answered
        with the MIX data and no node attribute.
        """
        await self.h.create()
        query = self.query(await self.info(HAG66_FULL, COVEN), NS_DISCO_INFO)
        self.assertEqual(None, query.getAttribute("node"))
        self.assertEqual([("conference", "mix", "coven")], identities(query))
        for var in (NS_MIX, "urn:xmpp:mam:2", "urn:xmpp:mam:1"):
            self.assertIn(var, features(query))

    async def test_channelInfoFeaturesDisco(self):
        """
        DISCO-9, CHAN-1: a channel advertises disco#info and disco#items
        and not the service-only features.
        """
        await self.h.create()
        query = self.query(await self.info(HAG66_FULL, COVEN, "mix"),
                           NS_DISCO_INFO)
        self.assertIn(NS_DISCO_INFO, features(query))
        self.assertIn(NS_DISCO_ITEMS, features(query))
        self.assertNotIn(NS_MIX + "#create-channel", features(query))
        self.assertNotIn(NS_MIX + "#searchable", features(query))

    async def test_unknownChannelInfo(self):
        """
        CHAN-4: disco#info on a channel that does not exist →
        item-not-found (cancel), with and without node.
        """
        self.assertError(
            await self.info(HAG66_FULL, "nowhere@" + DOMAIN, "mix"),
            "cancel", "item-not-found")
        self.assertError(await self.info(HAG66_FULL, "nowhere@" + DOMAIN),
                         "cancel", "item-not-found")

    async def test_unknownChannelItems(self):
        """
        CHAN-4: disco#items on a channel that does not exist →
        item-not-found (cancel).
        """
        self.assertError(
            await self.discoItems(HAG66_FULL, "nowhere@" + DOMAIN, "mix"),
            "cancel", "item-not-found")

    async def test_adhocHiddenFromStranger(self):
        """
        CHAN-4, AMB-52: disco on an ad hoc channel by a non-participant →
        not-authorized (auth), and such a stranger may not join it; its
        owner, once a participant, gets an answer.
        """
        name = await self.adhoc()
        channel = "%s@%s" % (name, DOMAIN)
        self.assertError(await self.info(CAT_FULL, channel, "mix"),
                         "auth", "not-authorized")
        self.assertError(await self.discoItems(CAT_FULL, channel, "mix"),
                         "auth", "not-authorized")
        self.assertError(await self.h.join(CAT, channel), "auth", "forbidden")
        self.assertResult(await self.h.join(HAG66, channel))
        query = self.query(await self.info(HAG66_FULL, channel, "mix"),
                           NS_DISCO_INFO)
        self.assertEqual([("conference", "mix", name)], identities(query))

    async def test_hiddenChannelInfo(self):
        """
        CHAN-4, ACL-3: a channel whose allowed node does not list the
        requester → not-authorized (auth).
        """
        await self.h.create(form=submitForm(
            ("Nodes Present", ["participants", "allowed"])))
        self.assertError(await self.info(CAT_FULL, COVEN, "mix"),
                         "auth", "not-authorized")

    # Channel disco#items

    async def test_channelNodesParticipant(self):
        """
        CHAN-2, CHAN-3, NODE-8: a participant sees the messages,
        participants, presence and info nodes as items with the channel
        JID; node='mix' is echoed.
        """
        await self.h.create()
        await self.h.join(HECATE)
        response = await self.discoItems(HECATE_FULL, COVEN, "mix")
        self.assertEqual(COVEN, response.getAttribute("from"))
        query = self.query(response, NS_DISCO_ITEMS)
        self.assertEqual("mix", query.getAttribute("node"))
        self.assertEqual(
            sorted([(COVEN, NODE_MESSAGES), (COVEN, NODE_PARTICIPANTS),
                    (COVEN, NODE_PRESENCE), (COVEN, NODE_INFO)]),
            sorted(items(query)))

    async def test_channelNodesOwner(self):
        """
        CHAN-3, NODE-6, NODE-12, ACL-6: the owner additionally sees jidmap,
        banned and config (allowed is not present by default).
        """
        await self.h.create()
        query = self.query(await self.discoItems(HAG66_FULL, COVEN, "mix"),
                           NS_DISCO_ITEMS)
        self.assertEqual(
            sorted([(COVEN, NODE_MESSAGES), (COVEN, NODE_PARTICIPANTS),
                    (COVEN, NODE_JIDMAP), (COVEN, NODE_PRESENCE),
                    (COVEN, NODE_INFO), (COVEN, NODE_BANNED),
                    (COVEN, NODE_CONFIG)]),
            sorted(items(query)))

    async def test_channelNodesStranger(self):
        """
        CHAN-3, ACL-8: a non-participant may subscribe to no node by
        default, so it sees none.
        """
        await self.h.create()
        await self.h.join(HECATE)
        query = self.query(await self.discoItems(CAT_FULL, COVEN, "mix"),
                           NS_DISCO_ITEMS)
        self.assertEqual([], items(query))

    async def test_channelNodesStrangerAnyone(self):
        """
        CHAN-3, ACL-8: a node whose subscription value is anyone is listed
        to a non-participant.
        """
        await self.h.create(form=ANYONE_FORM)
        query = self.query(await self.discoItems(CAT_FULL, COVEN, "mix"),
                           NS_DISCO_ITEMS)
        self.assertEqual([(COVEN, NODE_MESSAGES)], items(query))

    async def test_channelNodesWithoutNode(self):
        """
        CHAN-2, AMB-41: disco#items on a channel without node is answered
        with the MIX node list and no node attribute.
        """
        await self.h.create()
        await self.h.join(HECATE)
        query = self.query(await self.discoItems(HECATE_FULL, COVEN),
                           NS_DISCO_ITEMS)
        self.assertEqual(None, query.getAttribute("node"))
        self.assertEqual(
            sorted([(COVEN, NODE_MESSAGES), (COVEN, NODE_PARTICIPANTS),
                    (COVEN, NODE_PRESENCE), (COVEN, NODE_INFO)]),
            sorted(items(query)))


class RestrictedDiscoveryTestsMixin(MIXTestMixin):
    """
    A service with a name, creators restricted to one JID and one domain,
    an operator, not searchable.
    """

    def makeSettings(self):
        return serviceSettings(creators=(HAG66, "witches.example"),
                               admins=(CAT,), searchable=False,
                               name="Shakespearean Chat Service")

    async def info(self, sender):
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (sender, DOMAIN, NS_DISCO_INFO))
        self.assertResult(response)
        return response.firstChildElement()

    async def test_configuredName(self):
        """
        DISCO-1: the identity carries the configured service name (both
        identities, REV-1).
        """
        self.assertEqual(
            [("conference", "mix", "Shakespearean Chat Service"),
             ("conference", "text", "Shakespearean Chat Service")],
            identities(await self.info(HAG66_FULL)))

    async def test_notSearchable(self):
        """
        DISCO-2: with searchable=False the feature is absent.
        """
        query = await self.info(HAG66_FULL)
        self.assertNotIn(NS_MIX + "#searchable", features(query))
        self.assertIn(NS_MIX, features(query))

    async def test_notSearchableNoItems(self):
        """
        DISCO-2, DISCO-7: with searchable=False disco#items on the service
        returns no channels.
        """
        self.assertResult(await self.h.create("coven", HAG66_FULL))
        response = await self.h.iq(
            "<iq type='get' id='d2' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, DOMAIN, NS_DISCO_ITEMS))
        self.assertResult(response)
        query = response.firstChildElement()
        self.assertEqual((NS_DISCO_ITEMS, "query"), (query.uri, query.name))
        self.assertEqual([], items(query))

    async def test_createFeatureListedJID(self):
        """
        DISCO-3: a JID listed in creators sees create-channel.
        """
        self.assertIn(NS_MIX + "#create-channel",
                      features(await self.info(HAG66_FULL)))

    async def test_createFeatureListedDomain(self):
        """
        DISCO-3, ACL-3: a user of a listed domain sees create-channel.
        """
        self.assertIn(NS_MIX + "#create-channel",
                      features(await self.info("macbeth@witches.example/x")))

    async def test_createFeatureNotListed(self):
        """
        DISCO-3: a user not listed does not see create-channel (and the
        feature list still has urn:xmpp:mix:1).
        """
        query = await self.info(HECATE_FULL)
        self.assertNotIn(NS_MIX + "#create-channel", features(query))
        self.assertIn(NS_MIX, features(query))

    async def test_createFeatureNoSubdomain(self):
        """
        DISCO-3, AMB-25: a sub-domain of a listed domain does not match.
        """
        self.assertNotIn(NS_MIX + "#create-channel",
                         features(await self.info("x@sub.witches.example/r")))

    async def test_createFeatureOperator(self):
        """
        DISCO-3, AMB-8: a service operator (admins) sees create-channel.
        """
        self.assertIn(NS_MIX + "#create-channel",
                      features(await self.info(CAT_FULL)))

    async def test_createFeatureMatchesRights(self):
        """
        DISCO-3: the feature tells the truth: the unlisted user's create
        is refused (forbidden), the listed one's succeeds.
        """
        self.assertError(await self.h.create("lair", HECATE_FULL),
                         "auth", "forbidden")
        self.assertResult(await self.h.create("coven", HAG66_FULL))


class MirrorDiscoveryTestsMixin(MIXTestMixin):
    """
    A service with a MUC mirror.
    """

    def makeSettings(self):
        return serviceSettings(mucMirror=MIRROR)

    async def test_mirrorForms(self):
        """
        DISCO-10, MUC-1 (a MUC mirror on its own domain, the partially
        integrated approach), MUC-3, AMB-40: two result forms, FORM_TYPE
        urn:xmpp:mix:1#serviceinfo and urn:xmpp:mix:muc:0#muc-mirror, each
        with muc-mirror = the mirror domain; MUC is not a feature.
        """
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, DOMAIN, NS_DISCO_INFO))
        self.assertResult(response)
        query = response.firstChildElement()
        self.assertEqual((NS_DISCO_INFO, "query"), (query.uri, query.name))
        self.assertEqual(2, len(list(query.elements(NS_DATA, "x"))))
        self.assertEqual({
            NS_MIX + "#serviceinfo": ("result", {"muc-mirror": [MIRROR]}),
            "urn:xmpp:mix:muc:0#muc-mirror":
                ("result", {"muc-mirror": [MIRROR]}),
        }, forms(query))
        self.assertNotIn(NS_MUC, features(query))
        self.assertIn(NS_MIX, features(query))

    async def test_mirrorFieldType(self):
        """
        MUC-3: the muc-mirror field is jid-single and FORM_TYPE hidden.
        """
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, DOMAIN, NS_DISCO_INFO))
        query = response.firstChildElement()
        for x in query.elements(NS_DATA, "x"):
            types = dict((f.getAttribute("var"), f.getAttribute("type"))
                         for f in x.elements(NS_DATA, "field"))
            self.assertEqual({"FORM_TYPE": "hidden",
                              "muc-mirror": "jid-single"}, types)

    async def test_channelIsNotARoomWithMirror(self):
        """
        MUC-2, MUC-3: with a mirror configured the channel's disco#info,
        without node='mix' too, is still the MIX channel's (AMB-41: the
        mirror has its own domain, so the channel JID is no room JID).
        """
        await self.h.create()
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, COVEN, NS_DISCO_INFO))
        query = next(response.elements(NS_DISCO_INFO, "query"))
        self.assertEqual(None, query.getAttribute("node"))
        self.assertEqual([("conference", "mix", "coven")], identities(query))
        self.assertEqual([], [var for var in features(query)
                              if var.startswith(NS_MUC)])

    async def test_mirrorNotOnChannel(self):
        """
        MUC-3, CHAN-1: the mirror forms are on the service only.
        """
        await self.h.create()
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'>"
            "<query xmlns='%s' node='mix'/></iq>"
            % (HAG66_FULL, COVEN, NS_DISCO_INFO))
        self.assertResult(response)
        self.assertEqual({}, forms(response.firstChildElement()))


class DiscoveryMemoryTests(MemoryStoreMixin, DiscoveryTestsMixin,
                           unittest.TestCase):
    pass


class DiscoveryPgsqlTests(PgsqlStoreMixin, DiscoveryTestsMixin,
                          unittest.TestCase):
    pass


class RestrictedDiscoveryMemoryTests(MemoryStoreMixin,
                                     RestrictedDiscoveryTestsMixin,
                                     unittest.TestCase):
    pass


class RestrictedDiscoveryPgsqlTests(PgsqlStoreMixin,
                                    RestrictedDiscoveryTestsMixin,
                                    unittest.TestCase):
    pass


class MirrorDiscoveryMemoryTests(MemoryStoreMixin, MirrorDiscoveryTestsMixin,
                                 unittest.TestCase):
    pass


class MirrorDiscoveryPgsqlTests(PgsqlStoreMixin, MirrorDiscoveryTestsMixin,
                                unittest.TestCase):
    pass
