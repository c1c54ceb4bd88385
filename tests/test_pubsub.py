"""
PubSub access to channel nodes (PS-*, CHAN-5..8, NODE-*), on literal XML.
"""

import re

from twisted.trial import unittest

from tests.helpers import (
    ANYONE_FORM, CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE,
    HECATE_FULL, MIXTestMixin, MemoryStoreMixin, NODE_ALLOWED, NODE_BANNED,
    NODE_CONFIG, NODE_INFO, NODE_JIDMAP, NODE_MESSAGES, NODE_PARTICIPANTS,
    NODE_PRESENCE, NS_DATA, NS_MIX, NS_PUBSUB, NS_PUBSUB_ERRORS,
    NS_PUBSUB_EVENT, NS_PUBSUB_OWNER, formValues, submitForm)
from tests.pgsql import PgsqlStoreMixin

DATETIME_Z = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

#: Every field of the configuration table (ACL-6) with its default for a
#: channel created by hag66 ([]: the field is present without value).
CONFIG_DEFAULTS = {
    "Last Change Made By": [HAG66],
    "Owner": [HAG66],
    "Administrator": [],
    "End of Life": [],
    "Nodes Present": ["participants", "presence", "information", "banned"],
    "Messages Node Subscription": ["participants"],
    "Presence Node Subscription": ["participants"],
    "Participants Node Subscription": ["participants"],
    "Information Node Subscription": ["participants"],
    "Allowed Node Subscription": ["admins"],
    "Banned Node Subscription": ["admins"],
    "Configuration Node Access": ["admins"],
    "Information Node Update Rights": ["admins"],
    "Avatar Nodes Update Rights": ["admins"],
    "Open Presence": [False],
    "Participants Must Provide Presence": [False],
    "User Message Retraction": [False],
    "Administrator Message Retraction Rights": ["owners"],
    "Participation Addition by Invitation from Participant": [False],
    "Private Messages": [True],
}


def boolean(values):
    return [v.strip().lower() in ("1", "true") for v in values]


class PubSubTestsMixin(MIXTestMixin):
    """
    PubSub on the nodes of a channel.
    """

    async def pubsub(self, sender, to, body, iqType="get", ns=NS_PUBSUB,
                     iqid="p1"):
        return await self.h.iq(
            "<iq type='%s' id='%s' from='%s' to='%s'>"
            "<pubsub xmlns='%s'>%s</pubsub></iq>"
            % (iqType, iqid, sender, to, ns, body))

    async def itemsRequest(self, sender, node, itemIds=(), to=COVEN):
        body = "".join("<item id='%s'/>" % i for i in itemIds)
        return await self.pubsub(sender, to,
                                 "<items node='%s'>%s</items>" % (node, body))

    def items(self, response, node):
        """
        Check a successful items response and return its C{<item/>}s.
        """
        self.assertResult(response)
        pubsub = response.firstChildElement()
        self.assertEqual((NS_PUBSUB, "pubsub"), (pubsub.uri, pubsub.name))
        itemsList = list(pubsub.elements(NS_PUBSUB, "items"))
        self.assertEqual(1, len(itemsList), response.toXml())
        self.assertEqual(node, itemsList[0].getAttribute("node"))
        children = list(itemsList[0].elements())
        for child in children:
            self.assertEqual((NS_PUBSUB, "item"), (child.uri, child.name))
        return children

    async def setUpChannel(self, form=""):
        """
        hag66 creates coven and joins; hecate joins.  Return the proxy JIDs
        C{(hag66, hecate)}.
        """
        self.assertResult(await self.h.create("coven", HAG66_FULL, form))
        hag = await self.h.join(HAG66)
        self.assertResult(hag)
        hec = await self.h.join(HECATE)
        self.assertResult(hec)
        self.h.take()
        return (hag.firstChildElement().getAttribute("jid"),
                hec.firstChildElement().getAttribute("jid"))

    def assertPubSubError(self, response, errorType, condition, app):
        self.assertError(response, errorType, condition)
        error = list(response.elements(None, "error"))[0]
        apps = [(c.uri, c.name) for c in error.elements()
                if c.uri == NS_PUBSUB_ERRORS]
        self.assertEqual([(NS_PUBSUB_ERRORS, app)], apps, response.toXml())

    # Info node (CHAN-5)

    async def test_infoItem(self):
        """
        CHAN-5, NODE-9, AMB-27, AMB-45: one item whose id is a UTC
        date-time ending in Z, with a result form, FORM_TYPE
        urn:xmpp:mix:1, JID Visibility jid-hidden; the item is in the
        PubSub namespace, not urn:xmpp:mix:1.
        """
        await self.setUpChannel()
        response = await self.itemsRequest(HECATE_FULL, NODE_INFO)
        self.assertEqual(COVEN, response.getAttribute("from"))
        self.assertEqual(HECATE_FULL, response.getAttribute("to"))
        found = self.items(response, NODE_INFO)
        self.assertEqual(1, len(found))
        item = found[0]
        self.assertTrue(DATETIME_Z.match(item.getAttribute("id")),
                        item.getAttribute("id"))
        self.assertEqual(NS_PUBSUB, item.uri)
        self.assertNotIn("xmlns", item.attributes)
        forms = list(item.elements(NS_DATA, "x"))
        self.assertEqual(1, len(forms))
        self.assertEqual("result", forms[0].getAttribute("type"))
        fields = formValues(forms[0])
        self.assertEqual([NS_MIX], fields["FORM_TYPE"])
        self.assertEqual(["jid-hidden"], fields["JID Visibility"])
        self.assertNotIn('xmlns="urn:xmpp:mix:1"', item.toXml())

    async def test_infoItemAllFields(self):
        """
        CHAN-5, NODE-9, AMB-10: the info form carries every information
        field (Name, Description, Contact, JID Visibility), defaults
        included, even when no value was ever set.
        """
        await self.setUpChannel()
        item = self.items(await self.itemsRequest(HECATE_FULL, NODE_INFO),
                          NODE_INFO)[0]
        fields = formValues(item.firstChildElement())
        self.assertEqual(
            sorted(["FORM_TYPE", "Name", "Description", "Contact",
                    "JID Visibility"]), sorted(fields))

    async def test_infoItemName(self):
        """
        CHAN-5, NODE-9: fields set at creation appear in the info item.
        """
        await self.setUpChannel(submitForm(
            ("Name", "Witches Coven"),
            ("Description", "A location not far from the blasted heath")))
        item = self.items(await self.itemsRequest(HECATE_FULL, NODE_INFO),
                          NODE_INFO)[0]
        fields = formValues(item.firstChildElement())
        self.assertEqual(["Witches Coven"], fields["Name"])
        self.assertEqual(["A location not far from the blasted heath"],
                         fields["Description"])

    # Participants node (CHAN-6, NODE-3)

    async def test_participantsItems(self):
        """
        CHAN-6, NODE-3, PS-1: one item per participant, id = bare proxy
        JID, payload <participant xmlns='urn:xmpp:mix:1'> with the nick
        once set, without nick otherwise.
        """
        hag, hec = await self.setUpChannel()
        self.assertTrue(hag.endswith("#coven@" + DOMAIN), hag)
        self.assertNotIn("/", hag)
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        found = self.items(
            await self.itemsRequest(HECATE_FULL, NODE_PARTICIPANTS),
            NODE_PARTICIPANTS)
        byId = {}
        for item in found:
            participant = item.firstChildElement()
            self.assertEqual((NS_MIX, "participant"),
                             (participant.uri, participant.name))
            nicks = [str(n) for n in participant.elements(NS_MIX, "nick")]
            byId[item.getAttribute("id")] = nicks
            self.assertEqual([], list(participant.elements(NS_MIX, "jid")))
        self.assertEqual({hag: ["thirdwitch"], hec: []}, byId)

    async def test_participantsItemById(self):
        """
        PS-1, CHAN-8: items retrieval of one item by id returns only it.
        """
        hag, hec = await self.setUpChannel()
        found = self.items(
            await self.itemsRequest(HAG66_FULL, NODE_PARTICIPANTS, [hec]),
            NODE_PARTICIPANTS)
        self.assertEqual([hec], [i.getAttribute("id") for i in found])

    async def test_itemByUnknownId(self):
        """
        PS-1: asking for an item id that does not exist returns no item.
        """
        await self.setUpChannel()
        found = self.items(
            await self.itemsRequest(HAG66_FULL, NODE_PARTICIPANTS,
                                    ["999#coven@" + DOMAIN]),
            NODE_PARTICIPANTS)
        self.assertEqual([], found)

    async def test_nodeAlias(self):
        """
        NODE-1, AMB-1: items on urn:xmpp:mix:node:participants are answered
        with the canonical node name urn:xmpp:mix:nodes:participants.
        """
        hag, hec = await self.setUpChannel()
        found = self.items(
            await self.itemsRequest(HECATE_FULL,
                                    "urn:xmpp:mix:node:participants"),
            NODE_PARTICIPANTS)
        self.assertEqual(sorted([hag, hec]),
                         sorted(i.getAttribute("id") for i in found))

    async def test_nodeAliasInformation(self):
        """
        NODE-1, AMB-1: urn:xmpp:mix:nodes:information is an alias of the
        info node.
        """
        await self.setUpChannel()
        found = self.items(
            await self.itemsRequest(HECATE_FULL,
                                    "urn:xmpp:mix:nodes:information"),
            NODE_INFO)
        self.assertEqual(1, len(found))

    async def test_participantsForbiddenStranger(self):
        """
        PS-6, ACL-8: a non-participant may not read the participants node
        by default → forbidden (auth).
        """
        await self.setUpChannel()
        self.assertError(await self.itemsRequest(CAT_FULL, NODE_PARTICIPANTS),
                         "auth", "forbidden")

    # Messages node (NODE-2)

    async def test_messagesItemsEmpty(self):
        """
        NODE-2, AMB-54: items on the messages node → an empty <items/> for
        a participant, even after messages were sent.
        """
        await self.setUpChannel()
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        await self.h.message(HAG66_FULL, "Harpier cries")
        self.h.take()
        self.assertEqual([], self.items(
            await self.itemsRequest(HECATE_FULL, NODE_MESSAGES),
            NODE_MESSAGES))

    # Presence node (CHAN-7, NODE-8)

    async def test_presenceItems(self):
        """
        CHAN-7, NODE-8, AMB-17: the presence node exists by default and a
        participant may read it (empty with no presence).
        """
        await self.setUpChannel()
        self.assertEqual([], self.items(
            await self.itemsRequest(HECATE_FULL, NODE_PRESENCE),
            NODE_PRESENCE))

    async def test_presenceItemsStranger(self):
        """
        CHAN-7, PS-6: a non-participant may not read the presence node by
        default → forbidden.
        """
        await self.setUpChannel()
        self.assertError(await self.itemsRequest(CAT_FULL, NODE_PRESENCE),
                         "auth", "forbidden")

    # JID map (CHAN-8, NODE-5, NODE-6, VIS-5)

    async def test_jidmapOwner(self):
        """
        CHAN-8, NODE-5, NODE-6: the owner looks up a proxy JID in jidmap by
        item id and gets <participant xmlns='urn:xmpp:mix:1'><jid> with the
        real bare JID.
        """
        hag, hec = await self.setUpChannel()
        found = self.items(
            await self.itemsRequest(HAG66_FULL, NODE_JIDMAP, [hec]),
            NODE_JIDMAP)
        self.assertEqual([hec], [i.getAttribute("id") for i in found])
        participant = found[0].firstChildElement()
        self.assertEqual((NS_MIX, "participant"),
                         (participant.uri, participant.name))
        self.assertEqual([HECATE], [str(j) for j in
                                    participant.elements(NS_MIX, "jid")])
        self.assertEqual([], list(participant.elements(NS_MIX, "nick")))

    async def test_jidmapAll(self):
        """
        NODE-5: one jidmap item per participants item, same ids.
        """
        hag, hec = await self.setUpChannel()
        found = self.items(await self.itemsRequest(HAG66_FULL, NODE_JIDMAP),
                           NODE_JIDMAP)
        mapping = dict(
            (i.getAttribute("id"),
             str(i.firstChildElement().firstChildElement()))
            for i in found)
        self.assertEqual({hag: HAG66, hec: HECATE}, mapping)

    async def test_jidmapForbiddenParticipant(self):
        """
        VIS-5, CHAN-8, PS-6: in the default jid-hidden channel a plain
        participant may not read jidmap → forbidden (auth).
        """
        hag, hec = await self.setUpChannel()
        self.assertError(
            await self.itemsRequest(HECATE_FULL, NODE_JIDMAP, [hag]),
            "auth", "forbidden")
        self.assertError(await self.itemsRequest(HECATE_FULL, NODE_JIDMAP),
                         "auth", "forbidden")

    async def test_jidmapVisibleChannel(self):
        """
        VIS-5, NODE-5: in a jid-visible channel every participant may read
        jidmap.
        """
        hag, hec = await self.setUpChannel(
            submitForm(("JID Visibility", "jid-visible")))
        found = self.items(
            await self.itemsRequest(HECATE_FULL, NODE_JIDMAP, [hag]),
            NODE_JIDMAP)
        self.assertEqual([HAG66], [
            str(j) for j in found[0].firstChildElement().elements(
                NS_MIX, "jid")])

    # Config node (NODE-12)

    async def test_configItem(self):
        """
        NODE-12, ACL-6, AMB-4, AMB-45: the config node has one item named by
        a date-time, a result form with FORM_TYPE urn:xmpp:mix:1 and every
        field of the configuration table, defaults included, Owner = the
        creator.
        """
        await self.setUpChannel()
        found = self.items(await self.itemsRequest(HAG66_FULL, NODE_CONFIG),
                           NODE_CONFIG)
        self.assertEqual(1, len(found))
        self.assertTrue(DATETIME_Z.match(found[0].getAttribute("id")),
                        found[0].getAttribute("id"))
        x = found[0].firstChildElement()
        self.assertEqual((NS_DATA, "x"), (x.uri, x.name))
        self.assertEqual("result", x.getAttribute("type"))
        fields = formValues(x)
        self.assertEqual([NS_MIX], fields.pop("FORM_TYPE"))
        self.assertEqual(set(), set(CONFIG_DEFAULTS) - set(fields),
                         "configuration fields missing from the form")
        self.assertEqual(set(), set(fields) - set(CONFIG_DEFAULTS)
                         - set(["JID Visibility"]),
                         "unexpected configuration fields")

    async def test_configItemDefaults(self):
        """
        NODE-12, ACL-6, AMB-4: the default values of the configuration
        fields, Owner = creator.
        """
        await self.setUpChannel()
        found = self.items(await self.itemsRequest(HAG66_FULL, NODE_CONFIG),
                           NODE_CONFIG)
        fields = formValues(found[0].firstChildElement())
        for var, expected in CONFIG_DEFAULTS.items():
            if var not in fields:
                continue  # presence is checked by test_configItem
            values = fields[var]
            if expected and isinstance(expected[0], bool):
                values = boolean(values)
            elif var == "Nodes Present":
                values, expected = sorted(values), sorted(expected)
            self.assertEqual(expected, values, var)

    async def test_configForbiddenParticipant(self):
        """
        NODE-12, PS-6, ACL-6: Configuration Node Access defaults to admins,
        so a plain participant gets forbidden.
        """
        await self.setUpChannel()
        self.assertError(await self.itemsRequest(HECATE_FULL, NODE_CONFIG),
                         "auth", "forbidden")

    async def test_configItemById(self):
        """
        NODE-12, PS-1: the owner reads the config item by its id.
        """
        await self.setUpChannel()
        itemId = self.items(await self.itemsRequest(HAG66_FULL, NODE_CONFIG),
                            NODE_CONFIG)[0].getAttribute("id")
        found = self.items(
            await self.itemsRequest(HAG66_FULL, NODE_CONFIG, [itemId]),
            NODE_CONFIG)
        self.assertEqual([itemId], [i.getAttribute("id") for i in found])

    # Writes (PS-2, PS-3)

    async def test_publishForbidden(self):
        """
        PS-2, PS-3, NODE-3, NODE-5: publish on participants, jidmap,
        presence and messages is refused with forbidden (auth), even for
        the owner.
        """
        hag, hec = await self.setUpChannel()
        for node in (NODE_PARTICIPANTS, NODE_JIDMAP, NODE_PRESENCE,
                     NODE_MESSAGES):
            response = await self.pubsub(
                HAG66_FULL, COVEN,
                "<publish node='%s'><item id='%s'>"
                "<participant xmlns='urn:xmpp:mix:1'><nick>x</nick>"
                "</participant></item></publish>" % (node, hag),
                iqType="set")
            self.assertError(response, "auth", "forbidden")

    async def test_retractForbidden(self):
        """
        PS-2, PS-3: retract on participants, jidmap, presence and messages
        → forbidden (auth); the item is still there.
        """
        hag, hec = await self.setUpChannel()
        for node in (NODE_PARTICIPANTS, NODE_JIDMAP, NODE_PRESENCE,
                     NODE_MESSAGES):
            response = await self.pubsub(
                HAG66_FULL, COVEN,
                "<retract node='%s'><item id='%s'/></retract>" % (node, hec),
                iqType="set")
            self.assertError(response, "auth", "forbidden")
        found = self.items(
            await self.itemsRequest(HAG66_FULL, NODE_PARTICIPANTS),
            NODE_PARTICIPANTS)
        self.assertEqual(sorted([hag, hec]),
                         sorted(i.getAttribute("id") for i in found))

    async def test_purgeDeleteForbidden(self):
        """
        PS-2: purge and delete (pubsub#owner) on participants, jidmap,
        presence and messages → forbidden (auth).
        """
        await self.setUpChannel()
        for node in (NODE_PARTICIPANTS, NODE_JIDMAP, NODE_PRESENCE,
                     NODE_MESSAGES):
            for verb in ("purge", "delete"):
                response = await self.pubsub(
                    HAG66_FULL, COVEN, "<%s node='%s'/>" % (verb, node),
                    iqType="set", ns=NS_PUBSUB_OWNER)
                self.assertError(response, "auth", "forbidden")

    async def test_publishForbiddenAlias(self):
        """
        PS-2, AMB-1: the aliases of the service-written nodes are refused
        the same way.
        """
        await self.setUpChannel()
        response = await self.pubsub(
            HAG66_FULL, COVEN,
            "<publish node='urn:xmpp:mix:node:participants'>"
            "<item id='x'/></publish>", iqType="set")
        self.assertError(response, "auth", "forbidden")

    # Direct subscription (PS-4, ACL-8)

    async def subscribe(self, sender, jid, node=NODE_MESSAGES, iqid="s1"):
        return await self.pubsub(
            sender, COVEN, "<subscribe node='%s' jid='%s'/>" % (node, jid),
            iqType="set", iqid=iqid)

    async def unsubscribe(self, sender, jid, node=NODE_MESSAGES, iqid="u1"):
        return await self.pubsub(
            sender, COVEN, "<unsubscribe node='%s' jid='%s'/>" % (node, jid),
            iqType="set", iqid=iqid)

    async def test_subscribeOtherJID(self):
        """
        PS-4: the jid attribute must be the requester's bare JID, else
        bad-request with <invalid-jid/>.
        """
        await self.setUpChannel(ANYONE_FORM)
        self.assertPubSubError(await self.subscribe(CAT_FULL, HECATE),
                               "modify", "bad-request", "invalid-jid")

    async def test_subscribeStrangerDefault(self):
        """
        PS-4, ACL-8: a non-participant subscribing to messages with the
        default configuration → forbidden (auth).
        """
        await self.setUpChannel()
        self.assertError(await self.subscribe(CAT_FULL, CAT),
                         "auth", "forbidden")

    async def test_subscribeStrangerAnyone(self):
        """
        PS-4, ACL-8: with Messages Node Subscription = anyone a stranger may
        subscribe with its bare JID; the result carries a subscribed
        subscription for its bare JID.
        """
        await self.setUpChannel(ANYONE_FORM)
        response = await self.subscribe(CAT_FULL, CAT)
        self.assertResult(response)
        pubsub = response.firstChildElement()
        self.assertEqual((NS_PUBSUB, "pubsub"), (pubsub.uri, pubsub.name))
        subscription = pubsub.firstChildElement()
        self.assertEqual((NS_PUBSUB, "subscription"),
                         (subscription.uri, subscription.name))
        self.assertEqual(NODE_MESSAGES, subscription.getAttribute("node"))
        self.assertEqual(CAT, subscription.getAttribute("jid"))
        self.assertEqual("subscribed",
                         subscription.getAttribute("subscription"))

    async def test_subscribedStrangerGetsMessages(self):
        """
        PS-4, GEN-3, MSG-3: a stranger subscribed to messages receives the
        groupchat reflections at its bare JID.
        """
        hag, hec = await self.setUpChannel(ANYONE_FORM)
        self.assertResult(await self.subscribe(CAT_FULL, CAT))
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.h.take()
        await self.h.message(HAG66_FULL, "Harpier cries", "92vax143g")
        copies = [s for s in self.h.take()
                  if s.name == "message" and s.getAttribute("to") == CAT]
        self.assertEqual(1, len(copies))
        copy = copies[0]
        self.assertEqual(COVEN, copy.getAttribute("from"))
        self.assertEqual("groupchat", copy.getAttribute("type"))
        self.assertEqual("Harpier cries", str(copy.body))
        mix = list(copy.elements(NS_MIX, "mix"))
        self.assertEqual(1, len(mix))
        self.assertEqual(["thirdwitch"],
                         [str(n) for n in mix[0].elements(NS_MIX, "nick")])
        self.assertEqual([hag],
                         [str(j) for j in mix[0].elements(NS_MIX, "jid")])
        self.assertEqual([], list(mix[0].elements(NS_MIX, "submission-id")))

    async def test_subscribeAlias(self):
        """
        PS-4, AMB-1: subscribing via an alias answers with the canonical
        node name.
        """
        await self.setUpChannel(ANYONE_FORM)
        response = await self.subscribe(
            CAT_FULL, CAT, "urn:xmpp:mix:node:messages")
        self.assertResult(response)
        subscription = response.firstChildElement().firstChildElement()
        self.assertEqual(NODE_MESSAGES, subscription.getAttribute("node"))

    async def test_subscribeMissingNode(self):
        """
        PS-7: subscribing to a node not present → item-not-found.
        """
        await self.setUpChannel(ANYONE_FORM)
        self.assertError(await self.subscribe(HAG66_FULL, HAG66, NODE_ALLOWED),
                         "cancel", "item-not-found")

    async def test_unsubscribe(self):
        """
        PS-4: unsubscribe works, the stranger stops receiving messages; a
        second unsubscribe → unexpected-request with <not-subscribed/>.
        """
        await self.setUpChannel(ANYONE_FORM)
        self.assertResult(await self.subscribe(CAT_FULL, CAT))
        self.assertResult(await self.unsubscribe(CAT_FULL, CAT))
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.h.take()
        await self.h.message(HAG66_FULL, "Harpier cries")
        self.assertEqual([], [s for s in self.h.take()
                              if s.getAttribute("to") == CAT])
        self.assertPubSubError(
            await self.unsubscribe(CAT_FULL, CAT, iqid="u2"),
            "cancel", "unexpected-request", "not-subscribed")

    async def test_unsubscribeOtherJID(self):
        """
        PS-4: unsubscribe with another JID → bad-request <invalid-jid/>.
        """
        await self.setUpChannel(ANYONE_FORM)
        self.assertResult(await self.subscribe(CAT_FULL, CAT))
        self.assertPubSubError(await self.unsubscribe(HECATE_FULL, CAT),
                               "modify", "bad-request", "invalid-jid")

    # Notifications (PS-5)

    async def test_joinNotification(self):
        """
        PS-5, JOIN-7, GEN-3: a join is notified to the participants node
        subscribers' bare JIDs as a pubsub#event message with the item,
        without nick, and without a type attribute.
        """
        self.assertResult(await self.h.create())
        hag = (await self.h.join(HAG66)).firstChildElement().getAttribute(
            "jid")
        self.h.take()
        response = await self.h.join(HECATE, nodes=(NODE_MESSAGES,))
        hec = response.firstChildElement().getAttribute("jid")
        sent = [s for s in self.h.take() if s.name == "message"]
        self.assertEqual([HAG66], [s.getAttribute("to") for s in sent])
        message = sent[0]
        self.assertEqual(COVEN, message.getAttribute("from"))
        self.assertEqual(None, message.getAttribute("type"))
        self.assertTrue(message.getAttribute("id"))
        events = list(message.elements(NS_PUBSUB_EVENT, "event"))
        self.assertEqual(1, len(events))
        itemsList = list(events[0].elements(NS_PUBSUB_EVENT, "items"))
        self.assertEqual(1, len(itemsList))
        self.assertEqual(NODE_PARTICIPANTS, itemsList[0].getAttribute("node"))
        found = list(itemsList[0].elements())
        self.assertEqual([(NS_PUBSUB_EVENT, "item", hec)],
                         [(i.uri, i.name, i.getAttribute("id"))
                          for i in found])
        participant = found[0].firstChildElement()
        self.assertEqual((NS_MIX, "participant"),
                         (participant.uri, participant.name))
        self.assertEqual([], list(participant.elements()))
        self.assertNotEqual(hag, hec)

    async def test_nickNotification(self):
        """
        PS-5, NICK-6: a nick change is notified on the participants node
        with the nick.
        """
        hag, hec = await self.setUpChannel()
        self.assertResult(await self.h.setnick(HECATE_FULL, "thirdwitch"))
        sent = [s for s in self.h.take() if s.name == "message"]
        self.assertEqual(sorted([HAG66, HECATE]),
                         sorted(s.getAttribute("to") for s in sent))
        for message in sent:
            self.assertEqual(None, message.getAttribute("type"))
            item = message.event.items.item
            self.assertEqual(NODE_PARTICIPANTS,
                             message.event.items.getAttribute("node"))
            self.assertEqual(hec, item.getAttribute("id"))
            self.assertEqual(
                ["thirdwitch"],
                [str(n) for n in
                 item.firstChildElement().elements(NS_MIX, "nick")])

    # Unsupported operations and errors (PS-7, AMB-9)

    def assertUnsupported(self, response, feature=None):
        self.assertError(response, "cancel", "feature-not-implemented")
        error = list(response.elements(None, "error"))[0]
        unsupported = [c for c in error.elements(NS_PUBSUB_ERRORS,
                                                 "unsupported")]
        self.assertEqual(1, len(unsupported), response.toXml())
        if feature is not None:
            self.assertEqual(feature, unsupported[0].getAttribute("feature"))

    async def test_createUnsupported(self):
        """
        PS-7: create → feature-not-implemented <unsupported
        feature='create-nodes'/>.
        """
        await self.setUpChannel()
        self.assertUnsupported(
            await self.pubsub(HAG66_FULL, COVEN, "<create node='mynode'/>",
                              iqType="set"), "create-nodes")

    async def test_configureUnsupported(self):
        """
        PS-7: pubsub#owner configure → feature-not-implemented
        <unsupported/>.
        """
        await self.setUpChannel()
        self.assertUnsupported(
            await self.pubsub(HAG66_FULL, COVEN,
                              "<configure node='%s'/>" % NODE_INFO,
                              ns=NS_PUBSUB_OWNER), "config-node")

    async def test_defaultUnsupported(self):
        """
        PS-7: pubsub#owner default → feature-not-implemented
        <unsupported/>.
        """
        await self.setUpChannel()
        self.assertUnsupported(
            await self.pubsub(HAG66_FULL, COVEN, "<default/>",
                              ns=NS_PUBSUB_OWNER))

    async def test_ownerAffiliationsUnsupported(self):
        """
        PS-7: pubsub#owner affiliations → feature-not-implemented
        <unsupported/>.
        """
        await self.setUpChannel()
        self.assertUnsupported(
            await self.pubsub(HAG66_FULL, COVEN,
                              "<affiliations node='%s'/>" % NODE_PARTICIPANTS,
                              ns=NS_PUBSUB_OWNER))

    async def test_ownerSubscriptionsUnsupported(self):
        """
        PS-7: pubsub#owner subscriptions → feature-not-implemented
        <unsupported/>.
        """
        await self.setUpChannel()
        self.assertUnsupported(
            await self.pubsub(HAG66_FULL, COVEN,
                              "<subscriptions node='%s'/>" % NODE_PARTICIPANTS,
                              ns=NS_PUBSUB_OWNER))

    async def test_optionsUnsupported(self):
        """
        PS-7: subscription options → feature-not-implemented
        <unsupported/>.
        """
        await self.setUpChannel()
        self.assertUnsupported(
            await self.pubsub(HAG66_FULL, COVEN,
                              "<options node='%s' jid='%s'/>"
                              % (NODE_MESSAGES, HAG66)))

    async def test_absentNode(self):
        """
        PS-7, NODE-10, AMB-4: the allowed node is not present by default →
        item-not-found (cancel), even for the owner.
        """
        await self.setUpChannel()
        self.assertError(await self.itemsRequest(HAG66_FULL, NODE_ALLOWED),
                         "cancel", "item-not-found")

    async def test_unknownNode(self):
        """
        PS-7: a node that no channel has → item-not-found.
        """
        await self.setUpChannel()
        self.assertError(
            await self.itemsRequest(HAG66_FULL, "urn:example:nope"),
            "cancel", "item-not-found")

    async def test_bannedNodeOwner(self):
        """
        NODE-11, PS-6: the banned node is present by default and empty; the
        owner may read it, a participant may not.
        """
        await self.setUpChannel()
        self.assertEqual([], self.items(
            await self.itemsRequest(HAG66_FULL, NODE_BANNED), NODE_BANNED))
        self.assertError(await self.itemsRequest(HECATE_FULL, NODE_BANNED),
                         "auth", "forbidden")

    async def test_pubsubToService(self):
        """
        AMB-9: PubSub addressed to the service JID → service-unavailable.
        """
        await self.setUpChannel()
        self.assertError(
            await self.itemsRequest(HAG66_FULL, NODE_PARTICIPANTS, to=DOMAIN),
            "cancel", "service-unavailable")

    async def test_pubsubUnknownChannel(self):
        """
        PS-7, CHAN-4: PubSub to an unknown channel → item-not-found.
        """
        self.assertError(
            await self.itemsRequest(HAG66_FULL, NODE_PARTICIPANTS,
                                    to="nowhere@" + DOMAIN),
            "cancel", "item-not-found")


class PubSubMemoryTests(MemoryStoreMixin, PubSubTestsMixin,
                        unittest.TestCase):
    pass


class PubSubPgsqlTests(PgsqlStoreMixin, PubSubTestsMixin,
                       unittest.TestCase):
    pass
