"""
Channel avatar nodes (NODE-13, XEP-0084) and their rights (PS-6).
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, HAG66_FULL, HECATE, HECATE_FULL, MIXTestMixin,
    MemoryStoreMixin, NODE_CONFIG, NS_PUBSUB, NS_PUBSUB_EVENT, child,
    errorCondition, notifications, submitForm)
from tests.pgsql import PgsqlStoreMixin

DATA = "urn:xmpp:avatar:data"
METADATA = "urn:xmpp:avatar:metadata"
HASH = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f"


class AvatarTestsMixin(MIXTestMixin):
    """
    Channel L{COVEN} of hag66 with hecate as administrator and the avatar
    nodes present; cat is a participant.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(form=submitForm(
            ("Administrator", HECATE),
            ("Nodes Present", ["participants", "information", "avatar"]))))
        await self.proxyOf(CAT)
        self.h.take()

    async def pubsub(self, sender, body, iqType="set"):
        return await self.h.iq(
            "<iq type='%s' id='a' from='%s' to='%s'>"
            "<pubsub xmlns='%s'>%s</pubsub></iq>"
            % (iqType, sender, COVEN, NS_PUBSUB, body))

    async def publishData(self, sender, itemId=HASH, content="iVBORw0KGgo="):
        return await self.pubsub(sender, "<publish node='%s'><item id='%s'>"
                                 "<data xmlns='%s'>%s</data></item></publish>"
                                 % (DATA, itemId, DATA, content))

    async def publishMetadata(self, sender, itemId=HASH):
        return await self.pubsub(
            sender, "<publish node='%s'><item id='%s'><metadata xmlns='%s'>"
            "<info bytes='12345' id='%s' height='64' type='image/png' "
            "width='64'/></metadata></item></publish>"
            % (METADATA, itemId, METADATA, itemId))

    async def items(self, sender, node):
        response = await self.pubsub(sender, "<items node='%s'/>" % (node,),
                                     iqType="get")
        if response.getAttribute("type") != "result":
            return response
        items = child(child(response, NS_PUBSUB, "pubsub"), NS_PUBSUB,
                      "items")
        return [(i.getAttribute("id"), i.firstChildElement())
                for i in items.elements(NS_PUBSUB, "item")]

    async def test_publishAndRead(self):
        """
        NODE-13, PS-1: an administrator publishes data and metadata; the
        result names the item; participants read the stored payloads (read
        rights as the info node).
        """
        response = await self.publishData(HECATE_FULL)
        self.assertResult(response)
        publish = child(child(response, NS_PUBSUB, "pubsub"), NS_PUBSUB,
                        "publish")
        self.assertEqual(HASH, child(publish, NS_PUBSUB, "item")["id"])
        self.assertResult(await self.publishMetadata(HECATE_FULL))
        [(itemId, data)] = await self.items(CAT_FULL, DATA)
        self.assertEqual(HASH, itemId)
        self.assertEqual((DATA, "data"), (data.uri, data.name))
        self.assertEqual("iVBORw0KGgo=", str(data))
        [(itemId, metadata)] = await self.items(CAT_FULL, METADATA)
        info = child(metadata, METADATA, "info")
        self.assertEqual("image/png", info["type"])

    async def test_absentByDefault(self):
        """
        NODE-13, AMB-4: without avatar in Nodes Present the nodes do not
        exist (item-not-found for reads and writes).
        """
        self.assertResult(await self.pubsub(
            HAG66_FULL,
            "<publish node='%s'>%s"
            "</publish>" % (NODE_CONFIG, submitForm(
                ("Nodes Present", ["participants"])))))
        self.assertError(await self.publishData(HAG66_FULL), "cancel",
                         "item-not-found")
        self.assertError(await self.items(HAG66_FULL, DATA), "cancel",
                         "item-not-found")

    async def test_removingNodeDropsItems(self):
        """
        NODE-13, ADM-5: taking avatar out of Nodes Present deletes the
        items; putting it back gives empty nodes.
        """
        await self.publishData(HAG66_FULL)
        for nodes in (["participants"], ["participants", "avatar"]):
            self.assertResult(await self.pubsub(
                HAG66_FULL,
                "<publish node='%s'>%s"
                "</publish>" % (NODE_CONFIG, submitForm(
                    ("Nodes Present", nodes)))))
        self.assertEqual([], await self.items(HAG66_FULL, DATA))

    async def test_updateRights(self):
        """
        NODE-13, PS-6: Avatar Nodes Update Rights (default admins): a
        participant may not publish or retract; with participants it may.
        """
        await self.publishData(HAG66_FULL)
        self.assertError(await self.publishData(CAT_FULL, "other"), "auth",
                         "forbidden")
        self.assertError(
            await self.pubsub(CAT_FULL, "<retract node='%s'><item "
                                        "id='%s'/></retract>" % (DATA, HASH)),
            "auth", "forbidden")
        self.assertResult(await self.pubsub(
            HAG66_FULL,
            "<publish node='%s'>%s"
            "</publish>" % (NODE_CONFIG, submitForm(
                ("Avatar Nodes Update Rights", "participants")))))
        self.assertResult(await self.publishData(CAT_FULL, "other"))
        self.assertEqual([HASH, "other"],
                         [i for i, _ in await self.items(CAT_FULL, DATA)])

    async def test_readRights(self):
        """
        PS-6: avatar nodes are read as the info node: others than
        participants are refused by default.
        """
        await self.publishData(HAG66_FULL)
        self.assertError(await self.items("witch@heath.example/b", DATA),
                         "auth", "forbidden")

    async def test_wrongPayload(self):
        """
        NODE-13: a payload that is not the node's XEP-0084 element, or no
        payload, → bad-request; nothing is stored.
        """
        self.assertError(await self.pubsub(
            HAG66_FULL, "<publish node='%s'><item id='x'><metadata "
            "xmlns='%s'/></item></publish>" % (DATA, METADATA)),
            "modify", "bad-request")
        self.assertError(await self.pubsub(
            HAG66_FULL, "<publish node='%s'><item id='x'/></publish>"
            % (DATA,)), "modify", "bad-request")
        self.assertEqual([], await self.items(HAG66_FULL, DATA))

    async def test_notifications(self):
        """
        NODE-13, PS-5: subscribers get published items with their payload
        and retractions.
        """
        self.assertResult(await self.pubsub(
            CAT_FULL, "<subscribe node='%s' jid='%s'/>" % (METADATA, CAT)))
        self.h.take()
        await self.publishMetadata(HAG66_FULL)
        notes = notifications(self.h.take(), METADATA)
        self.assertEqual([CAT], [to for to, _ in notes])
        item = child(notes[0][1], NS_PUBSUB_EVENT, "item")
        self.assertEqual(HASH, item["id"])
        self.assertEqual((METADATA, "metadata"),
                         (item.firstChildElement().uri,
                          item.firstChildElement().name))
        self.assertResult(await self.pubsub(
            HAG66_FULL, "<retract node='%s'><item id='%s'/></retract>"
            % (METADATA, HASH)))
        notes = notifications(self.h.take(), METADATA)
        self.assertEqual([HASH], [
            r["id"] for r in notes[0][1].elements(NS_PUBSUB_EVENT,
                                                  "retract")])
        self.assertEqual([], await self.items(CAT_FULL, METADATA))

    async def test_retractUnknown(self):
        """
        NODE-13: retracting an item that is not there → item-not-found.
        """
        self.assertError(await self.pubsub(
            HAG66_FULL, "<retract node='%s'><item id='nope'/></retract>"
            % (DATA,)), "cancel", "item-not-found")

    async def test_payloadLimit(self):
        """
        NODE-13: an avatar larger than the item limit is refused with
        C{not-acceptable}; nothing is stored.
        """
        self.patch(self.h.channels.limits, "maxItemBytes", 1000)
        response = await self.publishData(HAG66_FULL, content="A" * 2000)
        self.assertEqual(("modify", "not-acceptable"),
                         errorCondition(response))
        self.assertEqual([], await self.items(HAG66_FULL, DATA))

    async def test_newestAvatarsKept(self):
        """
        NODE-13: an avatar node keeps its newest items only.
        """
        for n in range(12):
            self.assertResult(await self.publishData(HAG66_FULL,
                                                     itemId="h%02d" % n))
        ids = [i for i, _ in await self.items(HAG66_FULL, DATA)]
        self.assertEqual(["h%02d" % n for n in range(4, 12)], ids)


class AvatarMemoryTests(MemoryStoreMixin, AvatarTestsMixin,
                        unittest.TestCase):
    pass


class AvatarPgsqlTests(PgsqlStoreMixin, AvatarTestsMixin,
                       unittest.TestCase):
    pass
