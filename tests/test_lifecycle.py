"""
Channel creation and destruction (requirements.md §1.6 CRE, XEP-0369
§6.5.1-§6.5.5), driven by literal XML.
"""

from twisted.trial import unittest

from mixtwisted import channels
from mixtwisted.settings import Limits

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_BANNED, NODE_CONFIG, NODE_INFO,
    NODE_JIDMAP, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE, NS_DATA,
    NS_DISCO_ITEMS, NS_MIX, NS_PUBSUB, formValues, serviceSettings,
    startHarness, submitForm)
from tests.pgsql import PgsqlStoreMixin

GREYMALKIN = "greymalkin@shakespeare.example"
OPERATOR = "root@shakespeare.example"

#: XEP-0369 Listing 68, underscores as printed in the PDF (AMB-2, AMB-6).
LISTING_68_FORM = submitForm(
    ("Owner", ["hecate@shakespeare.example",
               "greymalkin@shakespeare.example"]),
    ("Messages_Node_Subscription", "allowed"),
    ("JID_Visibility", "jid-mandatory-visible"),
    ("No_Private_Messages", "true"))


def only(elements):
    elements = list(elements)
    assert len(elements) == 1, [e.toXml() for e in elements]
    return elements[0]


class LifecycleTestsMixin(MIXTestMixin):
    """
    Create and destroy.
    """

    def makeSettings(self):
        return serviceSettings(admins=(OPERATOR,),
                               limits=Limits(maxChannelNameLength=10))

    async def createIQ(self, attribute, sender=HAG66_FULL, to=DOMAIN, body="",
                       iqId="c1"):
        channel = "" if attribute is None else " channel='%s'" % attribute
        return await self.h.iq(
            "<iq type='set' id='%s' from='%s' to='%s'>"
            "<create xmlns='urn:xmpp:mix:1'%s>%s</create></iq>"
            % (iqId, sender, to, channel, body))

    async def destroyIQ(self, name="coven", sender=HAG66_FULL, to=DOMAIN):
        return await self.h.iq(
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='urn:xmpp:mix:1' channel='%s'/></iq>"
            % (sender, to, name))

    async def readNode(self, node, sender=HAG66_FULL, channel=COVEN):
        return await self.h.iq(
            "<iq type='get' id='p1' from='%s' to='%s'>"
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
            "<items node='%s'/></pubsub></iq>" % (sender, channel, node))

    async def nodeForm(self, node, sender=HAG66_FULL):
        response = await self.readNode(node, sender)
        self.assertResult(response)
        items = only(response.pubsub.elements(NS_PUBSUB, "items"))
        self.assertEqual(node, items["node"])
        item = only(items.elements(NS_PUBSUB, "item"))
        x = only(item.elements(NS_DATA, "x"))
        self.assertEqual("result", x["type"])
        return formValues(x)

    # CRE-1

    async def test_createWithDefaults(self):
        """
        CRE-1: create with a channel attribute returns a result from the
        service to the requester echoing
        C{<create channel='coven' xmlns='urn:xmpp:mix:1'/>}.
        """
        response = await self.createIQ("coven")
        self.assertResult(response)
        self.assertEqual(DOMAIN, response["from"])
        self.assertEqual(HAG66_FULL, response["to"])
        self.assertEqual("c1", response["id"])
        create = only(response.elements())
        self.assertEqual((NS_MIX, "create"), (create.uri, create.name))
        self.assertEqual({"channel": "coven"}, create.attributes)
        self.assertEqual([], list(create.elements()))
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))

    # CRE-2

    async def test_createWithFullChannelJID(self):
        """
        CRE-2, AMB-29: C{channel} given as a JID on our domain is accepted
        and echoed exactly as received; the channel is the localpart.
        """
        response = await self.createIQ(COVEN)
        self.assertResult(response)
        self.assertEqual(COVEN, response.create["channel"])
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))
        self.assertResult(await self.h.join(HAG66, COVEN))

    async def test_createOnOtherDomain(self):
        """
        CRE-2: a channel JID on another domain is a C{bad-request}.
        """
        response = await self.createIQ("coven@mix.example.org")
        self.assertError(response, "modify", "bad-request")
        self.assertIs(None, await self.h.store.getChannel("coven"))

    # CRE-3

    async def test_createWithListing68Form(self):
        """
        CRE-3, AMB-2, AMB-5, AMB-6, AMB-8: the Listing 68 form (underscored
        vars, jid-mandatory-visible, No Private Messages) is applied: the
        config node shows both owners, messages subscription C{allowed},
        Private Messages false; the info node shows C{jid-visible}.
        """
        response = await self.createIQ("coven", body=LISTING_68_FORM)
        self.assertResult(response)
        create = only(response.elements())
        self.assertEqual({"channel": "coven"}, create.attributes)
        self.assertEqual([], list(create.elements()))

        config = await self.nodeForm(NODE_CONFIG, HECATE_FULL)
        self.assertEqual([NS_MIX], config["FORM_TYPE"])
        self.assertEqual([HECATE, GREYMALKIN], config["Owner"])
        self.assertEqual(["allowed"], config["Messages Node Subscription"])
        self.assertEqual(["false"], config["Private Messages"])
        info = await self.nodeForm(NODE_INFO, HECATE_FULL)
        self.assertEqual(["jid-visible"], info["JID Visibility"])

    async def test_createFormInvalidListValue(self):
        """
        CRE-3: a list value the field does not take is C{not-acceptable}
        and nothing is created.
        """
        response = await self.createIQ("coven", body=submitForm(
            ("Messages Node Subscription", ["everybody"])))
        self.assertError(response, "modify", "not-acceptable")
        self.assertIs(None, await self.h.store.getChannel("coven"))

    async def test_createFormMalformedBoolean(self):
        """
        CRE-3, AMB-6: a boolean that is not true/false/1/0 (the C{>true}
        typo of Listing 68) is a C{bad-request}.
        """
        response = await self.createIQ("coven", body=submitForm(
            ("No Private Messages", ["&gt;true"])))
        self.assertError(response, "modify", "bad-request")
        self.assertIs(None, await self.h.store.getChannel("coven"))

    async def test_createFormWrongFormType(self):
        """
        CRE-3: a form whose FORM_TYPE is not urn:xmpp:mix:1 is a
        C{bad-request}.
        """
        response = await self.createIQ("coven", body=submitForm(
            ("Messages Node Subscription", ["allowed"]),
            formType="urn:xmpp:mix:0"))
        self.assertError(response, "modify", "bad-request")
        self.assertIs(None, await self.h.store.getChannel("coven"))

    async def test_createFormUnknownFieldIgnored(self):
        """
        CRE-3: unknown fields are ignored; known ones still apply.
        """
        response = await self.createIQ("coven", body=submitForm(
            ("Colour of the Cauldron", ["black"]),
            ("Messages Node Subscription", ["anyone"])))
        self.assertResult(response)
        config = await self.nodeForm(NODE_CONFIG)
        self.assertEqual(["anyone"], config["Messages Node Subscription"])
        self.assertNotIn("Colour of the Cauldron", config)

    # CRE-4

    async def test_creatorIsOwner(self):
        """
        CRE-4: without an Owner field the creator is the only owner.
        """
        self.assertResult(await self.createIQ("coven"))
        config = await self.nodeForm(NODE_CONFIG)
        self.assertEqual([HAG66], config["Owner"])

    async def test_ownerGivenReplacesCreator(self):
        """
        CRE-4: when the form names owners, the creator is not an owner (so
        may not destroy the channel).
        """
        self.assertResult(await self.createIQ("coven", body=submitForm(
            ("Owner", [HECATE]))))
        config = await self.nodeForm(NODE_CONFIG, HECATE_FULL)
        self.assertEqual([HECATE], config["Owner"])
        self.assertError(await self.destroyIQ(), "auth", "forbidden")

    # CRE-6

    async def test_createExisting(self):
        """
        CRE-6: creating an existing channel is a C{conflict} (cancel).
        """
        self.assertResult(await self.createIQ("coven"))
        self.assertError(await self.createIQ("coven", sender=CAT_FULL),
                         "cancel", "conflict")
        config = await self.nodeForm(NODE_CONFIG)
        self.assertEqual([HAG66], config["Owner"])

    async def test_createInvalidLocalpart(self):
        """
        CRE-6: a name that is not a valid JID localpart is a
        C{bad-request}.
        """
        for name in ("a/b", "x@y@%s" % (DOMAIN,), "a b", "a:b"):
            response = await self.createIQ(name)
            self.assertError(response, "modify", "bad-request")
        self.assertEqual([], await self.h.store.listChannels())

    async def test_createMixedCase(self):
        """
        CRE-1, CRE-2, CRE-6: 'Coven' is a valid localpart (JID localparts
        are case-insensitive, so Coven@… is coven@…): the channel is
        created under its prepared form and the attribute echoed as
        received; a second 'coven' is then a conflict.
        """
        response = await self.createIQ("Coven")
        self.assertResult(response)
        self.assertEqual("Coven", response.create["channel"])
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))
        self.assertResult(await self.h.join(CAT, COVEN))
        self.assertError(await self.createIQ("coven", iqId="c2"),
                         "cancel", "conflict")

    async def test_createEmptyName(self):
        """
        CRE-6: an empty channel attribute is a C{bad-request}, not an ad
        hoc channel.
        """
        self.assertError(await self.createIQ(""), "modify", "bad-request")
        self.assertEqual([], await self.h.store.listChannels())

    async def test_createTooLong(self):
        """
        CRE-6, limits: a name longer than maxChannelNameLength is
        C{not-acceptable}; one at the limit is fine.
        """
        self.assertError(await self.createIQ("a" * 11),
                         "modify", "not-acceptable")
        self.assertResult(await self.createIQ("a" * 10))

    async def test_createAtChannelJID(self):
        """
        CRE-6: C{<create/>} sent to a channel JID is a C{bad-request}.
        """
        self.assertResult(await self.createIQ("coven"))
        response = await self.createIQ("witches", to=COVEN)
        self.assertError(response, "modify", "bad-request")
        self.assertIs(None, await self.h.store.getChannel("witches"))

    async def test_createProxyLikeName(self):
        """
        CRE-6, AMB-30: a channel C{x#coven} is refused while C{coven}
        exists (it would look like a proxy JID of coven).
        """
        self.assertResult(await self.createIQ("coven"))
        self.assertError(await self.createIQ("x#coven"),
                         "modify", "bad-request")
        self.assertIs(None, await self.h.store.getChannel("x#coven"))

    # CRE-7

    async def test_createAdHoc(self):
        """
        CRE-7: C{<create/>} without a channel attribute creates a channel
        with a generated name returned in the result; it is joinable.
        """
        response = await self.createIQ(None)
        self.assertResult(response)
        create = only(response.elements())
        self.assertEqual((NS_MIX, "create"), (create.uri, create.name))
        name = create.getAttribute("channel")
        self.assertTrue(name)
        self.assertNotIn("@", name)
        self.assertNotIn("hag66", name)
        channel = await self.h.store.getChannel(name)
        self.assertIsNot(None, channel)
        self.assertTrue(channel.adhoc)
        join = await self.h.join(HAG66, "%s@%s" % (name, DOMAIN))
        self.assertResult(join)
        self.assertTrue(join.join["jid"].endswith("#%s@%s" % (name, DOMAIN)))

    async def test_createAdHocWithForm(self):
        """
        CRE-7, CRE-3: an ad hoc create may carry a configuration form.
        """
        response = await self.createIQ(None, body=submitForm(
            ("Messages Node Subscription", ["anyone"])))
        self.assertResult(response)
        name = response.create["channel"]
        channel = await self.h.store.getChannel(name)
        self.assertEqual("anyone",
                         channel.config["Messages Node Subscription"])
        self.assertEqual((HAG66,), tuple(channel.config["Owner"]))

    async def test_adHocNamesDiffer(self):
        """
        CRE-7: two ad hoc channels get different names.
        """
        first = (await self.createIQ(None, iqId="a1")).create["channel"]
        second = (await self.createIQ(None, iqId="a2")).create["channel"]
        self.assertNotEqual(first, second)

    # CRE-8

    async def test_nodesPresentAfterCreate(self):
        """
        CRE-8, AMB-4: after create the default nodes exist; the owner sees
        them all in disco#items (node='mix').
        """
        self.assertResult(await self.createIQ("coven"))
        response = await self.h.iq(
            "<iq type='get' id='di' from='%s' to='%s'>"
            "<query xmlns='%s' node='mix'/></iq>"
            % (HAG66_FULL, COVEN, NS_DISCO_ITEMS))
        self.assertResult(response)
        query = only(response.elements(NS_DISCO_ITEMS, "query"))
        items = list(query.elements(NS_DISCO_ITEMS, "item"))
        self.assertEqual({COVEN}, set(i["jid"] for i in items))
        self.assertEqual(
            [NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP, NODE_PRESENCE,
             NODE_INFO, NODE_BANNED, NODE_CONFIG],
            [i["node"] for i in items])

    async def test_infoAndConfigItemsAfterCreate(self):
        """
        CRE-8: the info node has an item with JID Visibility (default
        jid-hidden) and the config node an item with the options.
        """
        self.assertResult(await self.createIQ("coven"))
        info = await self.nodeForm(NODE_INFO)
        self.assertEqual(["jid-hidden"], info["JID Visibility"])
        config = await self.nodeForm(NODE_CONFIG)
        self.assertEqual(["participants"],
                         config["Messages Node Subscription"])
        self.assertEqual([HAG66], config["Owner"])

    # CRE-5

    async def test_creatorsPolicy(self):
        """
        CRE-5: with a creators list, others get C{forbidden} (auth).
        """
        self.h = await startHarness(self.makeStore(), serviceSettings(
            creators=(HECATE,)))
        self.assertError(await self.createIQ("coven"), "auth", "forbidden")
        self.assertIs(None, await self.h.store.getChannel("coven"))
        self.assertResult(await self.createIQ("coven", sender=HECATE_FULL))

    async def test_creatorsPolicyDomain(self):
        """
        CRE-5: a domain in the creators list lets its users create.
        """
        self.h = await startHarness(self.makeStore(), serviceSettings(
            creators=("shakespeare.example",)))
        self.assertResult(await self.createIQ("coven"))
        self.assertError(
            await self.createIQ("other", sender="eve@evil.example/x"),
            "auth", "forbidden")

    # CRE-9

    async def test_destroyByOwner(self):
        """
        CRE-9: the owner (not a participant, no presence) destroys the
        channel; the result is empty.
        """
        self.assertResult(await self.createIQ("coven"))
        response = await self.destroyIQ()
        self.assertResult(response)
        self.assertEqual(DOMAIN, response["from"])
        self.assertEqual(HAG66_FULL, response["to"])
        self.assertEqual([], list(response.elements()))
        self.assertIs(None, await self.h.store.getChannel("coven"))

    async def test_destroyByFullChannelJID(self):
        """
        CRE-9, AMB-29: destroy accepts the channel as a JID on our domain.
        """
        self.assertResult(await self.createIQ("coven"))
        self.assertResult(await self.destroyIQ(COVEN))
        self.assertIs(None, await self.h.store.getChannel("coven"))

    async def test_destroyByParticipant(self):
        """
        CRE-9: a participant who is not an owner gets C{forbidden}; the
        channel stays.
        """
        self.assertResult(await self.createIQ("coven"))
        self.assertResult(await self.h.join(CAT))
        self.assertError(await self.destroyIQ(sender=CAT_FULL),
                         "auth", "forbidden")
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))

    async def test_destroyUnknown(self):
        """
        CRE-9: destroying an unknown channel is C{item-not-found}.
        """
        self.assertError(await self.destroyIQ("nowhere"),
                         "cancel", "item-not-found")

    async def test_destroyByOperator(self):
        """
        CRE-9, AMB-8: a service operator (admins setting) may destroy any
        channel.
        """
        self.assertResult(await self.createIQ("coven"))
        self.assertResult(await self.destroyIQ(sender=OPERATOR + "/console"))
        self.assertIs(None, await self.h.store.getChannel("coven"))

    async def test_destroyAtChannelJID(self):
        """
        CRE-9, CRE-6: destroy is addressed to the service; sent to the
        channel it is a C{bad-request} and nothing is destroyed.
        """
        self.assertResult(await self.createIQ("coven"))
        self.assertError(await self.destroyIQ(to=COVEN),
                         "modify", "bad-request")
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))

    # CRE-10

    async def test_afterDestroy(self):
        """
        CRE-10, AMB-31: after destroy, join and PubSub reads are
        C{item-not-found}, and the old proxy JID no longer resolves.
        """
        self.assertResult(await self.createIQ("coven"))
        proxy = await self.proxyOf(CAT)
        self.h.take()
        self.assertResult(await self.destroyIQ())
        self.h.take()
        self.assertError(await self.h.join(HECATE), "cancel", "item-not-found")
        self.assertError(await self.readNode(NODE_INFO),
                         "cancel", "item-not-found")
        await self.h.receive(
            "<message type='chat' id='pm1' from='%s' to='%s'>"
            "<body>hi</body></message>" % (HECATE_FULL, proxy))
        out = self.h.take()
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        self.assertEqual("pm1", out[0]["id"])
        self.assertError(out[0], "cancel", "item-not-found")
        self.assertEqual([], await self.h.store.listParticipants("coven"))

    async def test_recreateAfterDestroy(self):
        """
        CRE-10, PJID-3: the name can be created again; the new channel has
        no participants and fresh configuration; proxy identifiers of the
        old incarnation are never issued to another user.
        """
        self.assertResult(await self.createIQ("coven", body=submitForm(
            ("Messages Node Subscription", ["anyone"]))))
        proxy = await self.proxyOf(HAG66)
        oldId = proxy.split("#", 1)[0]
        self.assertResult(await self.destroyIQ())
        self.assertResult(await self.createIQ("coven", sender=HECATE_FULL))
        config = await self.nodeForm(NODE_CONFIG, HECATE_FULL)
        self.assertEqual([HECATE], config["Owner"])
        self.assertEqual(["participants"],
                         config["Messages Node Subscription"])
        self.assertEqual([], await self.h.store.listParticipants("coven"))
        self.assertFalse(
            await self.h.store.reserveProxyId("coven", CAT, oldId))

        # Even when the generator offers the old identifier, another user
        # does not get it.
        offered = [oldId, "freshid000001"]
        self.patch(channels, "generateProxyId", lambda *a: offered.pop(0))
        self.assertEqual("freshid000001#coven@" + DOMAIN,
                         await self.proxyOf(CAT))

    async def test_rejoinAfterRecreate(self):
        """
        PJID-3, CRE-10: the returning user may join the re-created channel;
        its proxy JID is well formed and not another user's.
        """
        self.assertResult(await self.createIQ("coven"))
        await self.proxyOf(HAG66)
        self.assertResult(await self.destroyIQ())
        self.assertResult(await self.createIQ("coven"))
        catProxy = await self.proxyOf(CAT)
        hagProxy = await self.proxyOf(HAG66)
        self.assertNotEqual(catProxy, hagProxy)
        self.assertTrue(hagProxy.endswith("#coven@" + DOMAIN))

    # CRE-13

    async def test_allLeavingKeepsChannel(self):
        """
        CRE-13: when every participant leaves, the channel remains.
        """
        self.assertResult(await self.createIQ("coven"))
        for user in (HAG66, CAT):
            self.assertResult(await self.h.join(user))
        for user in (HAG66, CAT):
            self.assertResult(await self.h.iq(
                "<iq type='set' id='l1' from='%s' to='%s'>"
                "<leave xmlns='urn:xmpp:mix:1'/></iq>" % (user, COVEN)))
        self.assertEqual([], await self.h.store.listParticipants("coven"))
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))
        self.assertResult(await self.h.join(HECATE))

    # CRE-15

    async def test_nameFieldDoesNotRenameChannel(self):
        """
        CRE-15: the channel JID is fixed: a Name field sets the info name
        only.
        """
        self.assertResult(await self.createIQ("coven", body=submitForm(
            ("Name", ["Witches Coven"]))))
        self.assertIsNot(None,
                         await self.h.store.getChannel("coven"))
        names = [c.name for c in
                 await self.h.store.listChannels()]
        self.assertEqual(["coven"], names)
        info = await self.nodeForm(NODE_INFO)
        self.assertEqual(["Witches Coven"], info["Name"])
        self.assertResult(await self.h.join(HAG66))


class LifecycleMemoryTests(MemoryStoreMixin, LifecycleTestsMixin,
                           unittest.TestCase):
    pass


class LifecyclePgsqlTests(PgsqlStoreMixin, LifecycleTestsMixin,
                          unittest.TestCase):
    pass
