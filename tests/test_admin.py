"""
Administration through PubSub (ADM-*, ACL-2..5, NODE-9..12, VIS-4, VIS-5,
PS-2, PS-3), on literal XML.
"""

import re

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_ALLOWED, NODE_BANNED, NODE_CONFIG,
    NODE_INFO, NODE_JIDMAP, NODE_JIDMAP_VISIBLE, NODE_MESSAGES,
    NODE_PARTICIPANTS, NODE_PRESENCE, NS_DATA, NS_MIX, NS_PUBSUB,
    NS_PUBSUB_EVENT, child, formValues, notifications, serviceSettings,
    submitForm)
from tests.pgsql import PgsqlStoreMixin

DATETIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

OPERATOR = "root@shakespeare.example"
WITCH = "witch@heath.example"
WITCH_FULL = "witch@heath.example/broom"


class AdminTestsMixin(MIXTestMixin):
    """
    A channel L{COVEN} owned by hag66, with hecate as administrator; cat is
    a plain participant.  root is a service operator.
    """

    def makeSettings(self):
        return serviceSettings(admins=(OPERATOR,))

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(form=submitForm(
            ("Administrator", HECATE))))
        self.hagProxy = await self.proxyOf(HAG66)
        self.catProxy = await self.proxyOf(CAT)
        self.h.take()

    # Helpers

    async def pubsub(self, sender, body, iqType="set", iqid="a1"):
        return await self.h.iq(
            "<iq type='%s' id='%s' from='%s' to='%s'>"
            "<pubsub xmlns='%s'>%s</pubsub></iq>"
            % (iqType, iqid, sender, COVEN, NS_PUBSUB, body))

    async def publishForm(self, sender, node, form, wrap=None):
        if wrap is not None:
            form = "<item%s>%s</item>" % (
                " id='%s'" % wrap if wrap else "", form)
        return await self.pubsub(sender, "<publish node='%s'>%s</publish>"
                                 % (node, form))

    async def publishItem(self, sender, node, itemId):
        return await self.pubsub(sender, "<publish node='%s'><item id='%s'/>"
                                 "</publish>" % (node, itemId))

    async def retractItem(self, sender, node, itemId):
        return await self.pubsub(sender, "<retract node='%s'><item id='%s'/>"
                                 "</retract>" % (node, itemId))

    async def read(self, sender, node):
        """
        Items of C{node} as C{[(id, payload or None)]}, or the error
        response.
        """
        response = await self.pubsub(sender, "<items node='%s'/>" % (node,),
                                     iqType="get")
        if response.getAttribute("type") != "result":
            return response
        items = child(child(response, NS_PUBSUB, "pubsub"), NS_PUBSUB,
                      "items")
        return [(i.getAttribute("id"), i.firstChildElement())
                for i in items.elements(NS_PUBSUB, "item")]

    async def form(self, sender, node):
        """
        C{(item id, {var: [values]})} of the info or config item.
        """
        [(itemId, x)] = await self.read(sender, node)
        return itemId, formValues(x)

    def publishedId(self, response):
        self.assertResult(response)
        pubsub = child(response, NS_PUBSUB, "pubsub")
        publish = child(pubsub, NS_PUBSUB, "publish")
        self.assertEqual(1, len(list(publish.elements())), response.toXml())
        return child(publish, NS_PUBSUB, "item").getAttribute("id")

    def assertEmptyPubSub(self, response):
        self.assertResult(response)
        pubsub = child(response, NS_PUBSUB, "pubsub")
        self.assertNotEqual(None, pubsub, response.toXml())
        self.assertEqual([], list(pubsub.elements()))

    async def subscriptions(self, jid):
        return await self.h.store.getSubscriptions("coven", jid)

    async def participantJIDs(self):
        return sorted(
            p.jid for p in await self.h.store.listParticipants("coven"))

    async def subscribe(self, sender, node):
        bare = sender.split("/")[0]
        return await self.pubsub(sender, "<subscribe node='%s' jid='%s'/>"
                                 % (node, bare), iqid="s1")

    # Information node (ADM-1, ADM-2, NODE-9)

    async def test_publishInfoDirectForm(self):
        """
        ADM-2, NODE-9, AMB-9: a submit form directly in <publish/> merges
        the supplied fields, leaves the others, and answers with
        <publish node><item id='DATE-TIME'/></publish>.
        """
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("Name", "Witches Coven"), ("Description", "A place"))))
        oldId, _ = await self.form(HAG66_FULL, NODE_INFO)
        response = await self.publishForm(HECATE_FULL, NODE_INFO, submitForm(
            ("Contact", "greymalkin@shakespeare.example")))
        newId = self.publishedId(response)
        self.assertEqual(NODE_INFO, child(child(response, NS_PUBSUB,
                                                "pubsub"), NS_PUBSUB,
                                          "publish").getAttribute("node"))
        self.assertTrue(DATETIME_Z.match(newId), newId)
        self.assertTrue(newId > oldId)
        itemId, values = await self.form(HAG66_FULL, NODE_INFO)
        self.assertEqual(newId, itemId)
        self.assertEqual(["Witches Coven"], values["Name"])
        self.assertEqual(["A place"], values["Description"])
        self.assertEqual(["greymalkin@shakespeare.example"],
                         values["Contact"])
        self.assertEqual(["jid-hidden"], values["JID Visibility"])

    async def test_publishInfoWrappedIgnoresClientId(self):
        """
        ADM-2: the form may be wrapped in <item/> (XEP-0060); a client item
        id is ignored: the item id is the date-time of the change.
        """
        response = await self.publishForm(HAG66_FULL, NODE_INFO, submitForm(
            ("Name", "Coven")), wrap="mine")
        newId = self.publishedId(response)
        self.assertNotEqual("mine", newId)
        self.assertTrue(DATETIME_Z.match(newId), newId)
        self.assertEqual((newId, ["Coven"]), (
            (await self.form(CAT_FULL, NODE_INFO))[0],
            (await self.form(CAT_FULL, NODE_INFO))[1]["Name"]))

    async def test_publishInfoNotifies(self):
        """
        ADM-2, PS-5: info subscribers get the full merged item.
        """
        await self.publishForm(HAG66_FULL, NODE_INFO, submitForm(
            ("Description", "kept")))
        self.assertResult(await self.subscribe(CAT_FULL, NODE_INFO))
        self.h.take()
        newId = self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(("Name", "Coven"))))
        notes = notifications(self.h.take(), NODE_INFO)
        self.assertEqual([CAT], [to for to, _ in notes])
        item = child(notes[0][1], NS_PUBSUB_EVENT, "item")
        self.assertEqual(newId, item.getAttribute("id"))
        values = formValues(child(item, NS_DATA, "x"))
        self.assertEqual(["Coven"], values["Name"])
        self.assertEqual(["kept"], values["Description"])
        self.assertIn("JID Visibility", values)

    async def test_publishInfoRights(self):
        """
        ADM-2, PS-6: Information Node Update Rights (default admins): a
        participant is refused (forbidden); with the value participants it
        may publish.
        """
        before = await self.form(HAG66_FULL, NODE_INFO)
        self.assertError(await self.publishForm(
            CAT_FULL, NODE_INFO, submitForm(
                ("Name", "Cat's"))), "auth", "forbidden")
        self.assertEqual(before, await self.form(HAG66_FULL, NODE_INFO))
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Information Node Update Rights", "participants"))))
        self.publishedId(await self.publishForm(
            CAT_FULL, NODE_INFO, submitForm(
                ("Name", "Cat's"))))
        self.assertEqual(["Cat's"],
                         (await self.form(HAG66_FULL, NODE_INFO))[1]["Name"])

    async def test_publishInfoIgnoresConfigFields(self):
        """
        ADM-2: an info form changes only information fields; a config
        field in it (Owner) is ignored.
        """
        self.assertResult(await self.publishForm(
            HECATE_FULL, NODE_INFO, submitForm(
                ("Owner", HECATE), ("Name", "x"))))
        self.assertEqual(
            [HAG66], (await self.form(HAG66_FULL, NODE_CONFIG))[1]["Owner"])

    async def test_publishInfoAbsentNode(self):
        """
        PS-7, NODE-9: publishing to an info node the channel does not have
        → item-not-found.
        """
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Nodes Present", ["participants", "banned"]))))
        self.assertError(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("Name", "x"))), "cancel", "item-not-found")

    # Configuration node (ADM-3, ADM-4, ADM-5, ACL-4)

    async def test_publishConfig(self):
        """
        ADM-4, NODE-12: owners merge a config form; the new item id is a
        newer date-time; Last Change Made By is the publisher's bare JID;
        other fields are unchanged.
        """
        oldId, old = await self.form(HAG66_FULL, NODE_CONFIG)
        await self.h.advance(5)
        response = await self.publishForm(HAG66_FULL, NODE_CONFIG, submitForm(
            ("Owner", [HAG66, "greymalkin@shakespeare.example"]),
            ("Messages Node Subscription", "allowed")))
        newId = self.publishedId(response)
        self.assertTrue(DATETIME_Z.match(newId), newId)
        self.assertTrue(newId > oldId, (newId, oldId))
        itemId, new = await self.form(HAG66_FULL, NODE_CONFIG)
        self.assertEqual(newId, itemId)
        self.assertEqual([HAG66, "greymalkin@shakespeare.example"],
                         new["Owner"])
        self.assertEqual(["allowed"], new["Messages Node Subscription"])
        self.assertEqual([HAG66], new["Last Change Made By"])
        for var in old:
            if var not in ("Owner", "Messages Node Subscription"):
                self.assertEqual(old[var], new[var], var)

    async def test_publishConfigLastChangeMadeBy(self):
        """
        ADM-4, AMB-8: a service operator has owner rights; Last Change
        Made By names it (a client value is ignored).
        """
        self.publishedId(await self.publishForm(
            OPERATOR + "/x", NODE_CONFIG, submitForm(
                ("Last Change Made By", CAT), ("Open Presence", "true"))))
        values = (await self.form(HAG66_FULL, NODE_CONFIG))[1]
        self.assertEqual([OPERATOR], values["Last Change Made By"])
        self.assertEqual(["true"],
                         [v.lower() for v in values["Open Presence"]])

    async def test_publishConfigOwnersOnly(self):
        """
        ACL-4, ADM-4: administrators and participants may not change the
        configuration (forbidden); nothing changes.
        """
        before = await self.form(HAG66_FULL, NODE_CONFIG)
        for sender in (HECATE_FULL, CAT_FULL, WITCH_FULL):
            self.assertError(await self.publishForm(
                sender, NODE_CONFIG, submitForm(
                    ("Open Presence", "true"))), "auth", "forbidden")
        self.assertEqual(before, await self.form(HAG66_FULL, NODE_CONFIG))

    async def test_ownerNeedsNoParticipation(self):
        """
        ADM-11: an owner that is not a participant administers the channel.
        """
        self.assertResult(await self.h.leave(HAG66))
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Open Presence", "true"))))

    async def test_malformedForms(self):
        """
        ADM-4, CRE-3, AMB-6: a form that is not a submit form, has a wrong
        or no FORM_TYPE, a bad boolean, or no form at all → bad-request;
        nothing changes.
        """
        before = await self.form(HAG66_FULL, NODE_CONFIG)
        bad = [
            submitForm(("Open Presence", "true")).replace(
                "type='submit'", "type='form'"),
            submitForm(("Open Presence", "true"), formType="urn:other"),
            submitForm(("Open Presence", "true"), formType=None),
            submitForm(("Open Presence", "yes")),
            "",
        ]
        for form in bad:
            self.assertError(
                await self.publishForm(HAG66_FULL, NODE_CONFIG, form),
                "modify", "bad-request")
        self.assertEqual(before, await self.form(HAG66_FULL, NODE_CONFIG))

    async def test_invalidValues(self):
        """
        ADM-5, ACL-6: a value a field does not take → not-acceptable, and
        no field of the form is applied.
        """
        before = await self.form(HAG66_FULL, NODE_CONFIG)
        self.assertError(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Open Presence", "true"),
                ("Messages Node Subscription", "nobody"))),
            "modify", "not-acceptable")
        self.assertError(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("Name", "x"), ("JID Visibility", "jid-sometimes"))),
            "modify", "not-acceptable")
        self.assertEqual(before, await self.form(HAG66_FULL, NODE_CONFIG))
        self.assertEqual(
            [], (await self.form(HAG66_FULL, NODE_INFO))[1]["Name"])

    async def test_ownerNeverEmpty(self):
        """
        ACL-2, AMB-8: a change leaving no owner → not-acceptable.
        """
        self.assertError(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Owner", ""))), "modify", "not-acceptable")
        self.assertEqual(
            [HAG66], (await self.form(HAG66_FULL, NODE_CONFIG))[1]["Owner"])

    async def test_participantsValueNeedsNode(self):
        """
        NODE-4: removing the participants node while a field is
        participants → not-acceptable; with the values changed too it is
        accepted.
        """
        self.assertError(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Nodes Present", ["presence", "information"]))),
            "modify", "not-acceptable")
        fields = [(f, "allowed") for f in (
            "Messages Node Subscription", "Presence Node Subscription",
            "Participants Node Subscription",
            "Information Node Subscription")]
        fields += [("Information Node Update Rights", "admins")]
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Nodes Present", ["presence", "information"]), *fields)))

    async def test_threeVisibilityModes(self):
        """
        VIS-1, NODE-9: the info node holds the mode, C{jid-hidden} by
        default; the three modes are accepted and anything else is
        C{not-acceptable}, changing nothing.
        """
        self.assertEqual(
            ["jid-hidden"],
            (await self.form(HAG66_FULL, NODE_INFO))[1]["JID Visibility"])
        for mode in ("jid-visible", "jid-maybe-visible", "jid-hidden"):
            self.publishedId(await self.publishForm(
                HAG66_FULL, NODE_INFO, submitForm(("JID Visibility", mode))))
            self.assertEqual(
                [mode],
                (await self.form(HAG66_FULL, NODE_INFO))[1]["JID Visibility"])
        response = await self.publishForm(HAG66_FULL, NODE_INFO, submitForm(
            ("JID Visibility", "jid-sometimes")))
        self.assertError(response, "modify", "not-acceptable")
        self.assertEqual(
            ["jid-hidden"],
            (await self.form(HAG66_FULL, NODE_INFO))[1]["JID Visibility"])

    async def test_jidVisibilityInConfigGoesToInfo(self):
        """
        AMB-6, ADM-4: JID Visibility in a config form (legacy spelling
        jid-mandatory-visible) is stored in the info node, which gets a
        new item; it is not a config field.
        """
        oldInfoId = (await self.form(HAG66_FULL, NODE_INFO))[0]
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("JID_Visibility", "jid-mandatory-visible"),
                ("No Private Messages", "true"))))
        infoId, info = await self.form(HAG66_FULL, NODE_INFO)
        self.assertEqual(["jid-visible"], info["JID Visibility"])
        self.assertTrue(infoId > oldInfoId)
        config = (await self.form(HAG66_FULL, NODE_CONFIG))[1]
        self.assertNotIn("JID Visibility", config)
        self.assertEqual(["false"],
                         [v.lower() for v in config["Private Messages"]])

    async def test_configNotifies(self):
        """
        ADM-5, PS-5: config subscribers get the full new item.
        """
        self.assertResult(await self.subscribe(HECATE_FULL, NODE_CONFIG))
        self.h.take()
        newId = self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(("Open Presence", "1"))))
        notes = notifications(self.h.take(), NODE_CONFIG)
        self.assertEqual([HECATE], [to for to, _ in notes])
        item = child(notes[0][1], NS_PUBSUB_EVENT, "item")
        self.assertEqual(newId, item.getAttribute("id"))
        values = formValues(child(item, NS_DATA, "x"))
        self.assertEqual([HAG66], values["Owner"])
        self.assertIn("Private Messages", values)

    async def test_strictlyIncreasingIds(self):
        """
        ADM-12, AMB-45: two changes within one second get increasing ids.
        """
        first = self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(("Open Presence", "1"))))
        second = self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(("Open Presence", "0"))))
        third = self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(("Name", "a"))))
        fourth = self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(("Name", "b"))))
        self.assertTrue(first < second, (first, second))
        self.assertTrue(third < fourth, (third, fourth))

    async def test_removedNodeDropsSubscriptions(self):
        """
        ADM-5: taking a node out of Nodes Present removes it and every
        subscription to it.
        """
        await self.h.iq(
            "<iq type='set' id='u' from='%s' to='%s'>"
            "<update-subscription xmlns='%s'><subscribe node='%s'/>"
            "</update-subscription></iq>"
            % (CAT_FULL, COVEN, NS_MIX, NODE_PRESENCE))
        self.assertIn(NODE_PRESENCE, await self.subscriptions(CAT))
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Nodes Present", ["participants", "information", "banned"]))))
        self.assertNotIn(NODE_PRESENCE, await self.subscriptions(CAT))
        self.assertIn(NODE_MESSAGES, await self.subscriptions(CAT))
        self.assertError(await self.read(HAG66_FULL, NODE_PRESENCE),
                         "cancel", "item-not-found")

    async def test_tightenedAccessDropsSubscriptions(self):
        """
        ADM-5, ACL-7: a subscription the new configuration no longer
        allows is dropped: participants subscribed to participants lose it
        when the node becomes admins-only; the admin keeps it.
        """
        await self.proxyOf(HECATE)
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Participants Node Subscription", "admins"))))
        self.assertNotIn(NODE_PARTICIPANTS, await self.subscriptions(CAT))
        self.assertIn(NODE_PARTICIPANTS, await self.subscriptions(HECATE))
        self.h.take()
        await self.proxyOf("new@shakespeare.example")
        notes = notifications(self.h.take(), NODE_PARTICIPANTS)
        self.assertNotIn(CAT, [to for to, _ in notes])
        self.assertIn(HECATE, [to for to, _ in notes])

    # Visibility changes (VIS-4, VIS-5)

    async def joinWithPref(self, user, pref, channel=COVEN):
        response = await self.h.join(
            user, nodes=(NODE_MESSAGES, NODE_PARTICIPANTS),
            extra=submitForm(("JID Visibility", pref)))
        self.assertResult(response)
        return response.join["jid"]

    async def test_toVisibleRemovesNever(self):
        """
        VIS-4: changing to jid-visible removes participants whose
        preference is never, with leave notifications (JOIN-19).
        """
        proxy = await self.joinWithPref(WITCH, "never")
        self.h.take()
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-visible"))))
        self.assertEqual(sorted([HAG66, CAT]), await self.participantJIDs())
        self.assertEqual(set(), await self.subscriptions(WITCH))
        retracts = [
            r.getAttribute("id")
            for to, items in notifications(self.h.take(), NODE_PARTICIPANTS)
            for r in items.elements(NS_PUBSUB_EVENT, "retract")]
        self.assertIn(proxy, retracts)

    async def test_toHiddenRemovesAlways(self):
        """
        VIS-4: changing (from jid-maybe-visible) to jid-hidden removes
        participants whose preference is always; others stay.
        """
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-maybe-visible"))))
        await self.joinWithPref(WITCH, "always")
        await self.joinWithPref(HECATE, "never")
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("JID Visibility", "jid-hidden"))))
        self.assertEqual(sorted([HAG66, CAT, HECATE]),
                         await self.participantJIDs())

    async def test_maybeVisibleNode(self):
        """
        VIS-4, NODE-7: entering jid-maybe-visible creates the
        jidmap-visible node (one item per participant); leaving it drops
        the node and its subscriptions.
        """
        self.assertError(await self.read(CAT_FULL, NODE_JIDMAP_VISIBLE),
                         "cancel", "item-not-found")
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-maybe-visible"))))
        items = await self.read(CAT_FULL, NODE_JIDMAP_VISIBLE)
        self.assertEqual(sorted([self.hagProxy, self.catProxy]),
                         sorted(i for i, _ in items))
        self.assertResult(await self.subscribe(CAT_FULL, NODE_JIDMAP_VISIBLE))
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-hidden"))))
        self.assertError(await self.read(CAT_FULL, NODE_JIDMAP_VISIBLE),
                         "cancel", "item-not-found")
        self.assertNotIn(NODE_JIDMAP_VISIBLE, await self.subscriptions(CAT))

    async def test_jidmapSubscriptionDroppedWhenHidden(self):
        """
        VIS-5, NODE-5: a participant subscribed to jidmap in a jid-visible
        channel loses the subscription when the channel becomes
        jid-hidden, and gets no more jidmap notifications; the admin keeps
        it.
        """
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-visible"))))
        self.assertResult(await self.subscribe(CAT_FULL, NODE_JIDMAP))
        await self.proxyOf(HECATE, nodes=(NODE_JIDMAP,))
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-hidden"))))
        self.assertNotIn(NODE_JIDMAP, await self.subscriptions(CAT))
        self.assertIn(NODE_JIDMAP, await self.subscriptions(HECATE))
        self.h.take()
        await self.proxyOf(WITCH)
        self.assertEqual([HECATE], [to for to, _ in notifications(
            self.h.take(), NODE_JIDMAP)])
        self.assertError(await self.read(CAT_FULL, NODE_JIDMAP), "auth",
                         "forbidden")

    # Allowed and banned (ACL-3, ACL-5, ADM-6..10)

    async def test_banAddsNormalisedItem(self):
        """
        ADM-7, NODE-11, AMB-25: one item per publish; a full JID is reduced
        to its JID-prepared bare JID; the result is an empty <pubsub/>; the
        item is read back by admins (ADM-6).
        """
        self.assertEmptyPubSub(await self.publishItem(
            HECATE_FULL, NODE_BANNED, "Lear@Shakespeare.example/home"))
        self.assertEmptyPubSub(await self.publishItem(
            HECATE_FULL, NODE_BANNED, "marlowe.example"))
        self.assertEqual(
            ["lear@shakespeare.example", "marlowe.example"],
            [i for i, _ in await self.read(HECATE_FULL, NODE_BANNED)])

    async def test_listPublishMalformed(self):
        """
        ADM-7: no item, two items, or a malformed JID → bad-request.
        """
        self.assertError(
            await self.pubsub(HECATE_FULL, "<publish node='%s'/>"
                              % NODE_BANNED),
            "modify", "bad-request")
        self.assertError(await self.pubsub(
            HECATE_FULL, "<publish node='%s'><item id='a.example'/>"
            "<item id='b.example'/></publish>" % NODE_BANNED),
            "modify", "bad-request")
        self.assertError(
            await self.publishItem(HECATE_FULL, NODE_BANNED, "a@@b"),
            "modify", "bad-request")
        self.assertEqual([], await self.read(HECATE_FULL, NODE_BANNED))

    async def test_listWriteRights(self):
        """
        ACL-5, NODE-10, NODE-11: participants and others may not write the
        allowed and banned nodes (forbidden).
        """
        for sender in (CAT_FULL, WITCH_FULL):
            self.assertError(await self.publishItem(sender, NODE_BANNED,
                                                    "x.example"),
                             "auth", "forbidden")
            self.assertError(await self.retractItem(sender, NODE_BANNED,
                                                    "x.example"),
                             "auth", "forbidden")

    async def test_retract(self):
        """
        ADM-8: retract removes the item (empty <pubsub/> result); an item
        that is not there → item-not-found.
        """
        await self.publishItem(HECATE_FULL, NODE_BANNED,
                               "lear@shakespeare.example")
        self.assertEmptyPubSub(await self.retractItem(
            HAG66_FULL, NODE_BANNED, "lear@shakespeare.example"))
        self.assertEqual([], await self.read(HECATE_FULL, NODE_BANNED))
        self.assertError(await self.retractItem(
            HAG66_FULL, NODE_BANNED, "lear@shakespeare.example"),
            "cancel", "item-not-found")

    async def test_allowedCreatedOnPublish(self):
        """
        ADM-10, AMB-26, ACL-3: publishing to the absent allowed node
        creates it and adds it to Nodes Present; from then on only listed
        JIDs (and participants, admins, owners) are Allowed.
        """
        self.assertError(await self.read(HECATE_FULL, NODE_ALLOWED),
                         "cancel", "item-not-found")
        self.assertEmptyPubSub(await self.publishItem(
            HECATE_FULL, NODE_ALLOWED, "heath.example"))
        self.assertEqual([("heath.example", None)],
                         await self.read(HECATE_FULL, NODE_ALLOWED))
        self.assertIn("allowed", (await self.form(HAG66_FULL, NODE_CONFIG))[1][
            "Nodes Present"])
        self.assertResult(await self.h.join(WITCH))
        self.assertError(await self.h.join("lear@shakespeare.example"),
                         "auth", "forbidden")
        self.assertResult(await self.h.join(CAT))

    async def test_removingAllowedKeepsParticipants(self):
        """
        ADM-9: removing an allowed item evicts no participant.
        """
        await self.publishItem(HECATE_FULL, NODE_ALLOWED, "heath.example")
        await self.proxyOf(WITCH)
        self.assertEmptyPubSub(await self.retractItem(
            HECATE_FULL, NODE_ALLOWED, "heath.example"))
        self.assertIn(WITCH, await self.participantJIDs())

    async def test_banEvicts(self):
        """
        ADM-9, ACL-3, JOIN-19: banning a domain removes every matching
        participant at once, with participants retract notifications, and
        drops matching non-participant subscriptions; the banned cannot
        join again.
        """
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Messages Node Subscription", "anyone"))))
        self.assertResult(await self.subscribe(WITCH_FULL, NODE_MESSAGES))
        warlock = await self.proxyOf("warlock@heath.example")
        self.h.take()
        self.assertEmptyPubSub(await self.publishItem(
            HECATE_FULL, NODE_BANNED, "heath.example"))
        self.assertEqual(sorted([HAG66, CAT]), await self.participantJIDs())
        self.assertEqual(set(), await self.subscriptions(WITCH))
        self.assertEqual(set(),
                         await self.subscriptions("warlock@heath.example"))
        retracts = [
            (to, r.getAttribute("id"))
            for to, items in notifications(self.h.take(), NODE_PARTICIPANTS)
            for r in items.elements(NS_PUBSUB_EVENT, "retract")]
        self.assertEqual(sorted([(HAG66, warlock), (CAT, warlock)]),
                         sorted(retracts))
        self.assertError(await self.h.join(WITCH), "auth", "forbidden")
        self.assertEqual([], [to for to, _ in notifications(
            await self.send(
                "<message type='groupchat' id='m' from='%s' to='%s'>"
                "<body>hi</body></message>" % (CAT_FULL, COVEN)),
            NODE_MESSAGES)])

    async def test_bannedStrangerLosesSubscription(self):
        """
        ADM-9: a matching subscriber by direct subscription stops getting
        messages.
        """
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Messages Node Subscription", "anyone"))))
        self.assertResult(await self.subscribe(WITCH_FULL, NODE_MESSAGES))
        await self.publishItem(HECATE_FULL, NODE_BANNED, WITCH)
        self.h.take()
        await self.h.message(CAT_FULL, "hello")
        recipients = [s.getAttribute("to") for s in self.h.take()
                      if s.name == "message"]
        self.assertNotIn(WITCH, recipients)
        self.assertIn(CAT, recipients)

    async def test_cannotBanOwnersAdmins(self):
        """
        AMB-25: banning an owner, an administrator, a service operator or
        one of their domains → not-acceptable; nothing changes.
        """
        for item in (HAG66, HECATE, OPERATOR, "shakespeare.example",
                     HECATE + "/res"):
            self.assertError(
                await self.publishItem(HAG66_FULL, NODE_BANNED, item),
                "modify", "not-acceptable")
        self.assertEqual([], await self.read(HAG66_FULL, NODE_BANNED))
        self.assertIn(HAG66, await self.participantJIDs())

    async def test_listNotifications(self):
        """
        PS-5, ADM-7, ADM-8: banned-node subscribers are notified of added
        and retracted items.
        """
        self.assertResult(await self.subscribe(HECATE_FULL, NODE_BANNED))
        self.h.take()
        await self.publishItem(HAG66_FULL, NODE_BANNED,
                               "lear@shakespeare.example")
        notes = notifications(self.h.take(), NODE_BANNED)
        self.assertEqual([HECATE], [to for to, _ in notes])
        self.assertEqual(["lear@shakespeare.example"], [
            i.getAttribute("id")
            for i in notes[0][1].elements(NS_PUBSUB_EVENT, "item")])
        await self.retractItem(HAG66_FULL, NODE_BANNED,
                               "lear@shakespeare.example")
        notes = notifications(self.h.take(), NODE_BANNED)
        self.assertEqual(["lear@shakespeare.example"], [
            r.getAttribute("id")
            for r in notes[0][1].elements(NS_PUBSUB_EVENT, "retract")])

    async def test_oneRetractPerEvent(self):
        """
        ADM-8, D-80: retracting two items at once notifies each in an
        event of its own (slixmpp 1.17 fails on an event with several).
        """
        self.assertResult(await self.subscribe(HECATE_FULL, NODE_BANNED))
        for item in ("lear@shakespeare.example", "edmund.example"):
            await self.publishItem(HAG66_FULL, NODE_BANNED, item)
        self.h.take()
        self.assertEmptyPubSub(await self.pubsub(
            HAG66_FULL, "<retract node='%s'><item id='lear@shakespeare.example'"
            "/><item id='edmund.example'/></retract>" % (NODE_BANNED,)))
        notes = notifications(self.h.take(), NODE_BANNED)
        self.assertEqual([["lear@shakespeare.example"], ["edmund.example"]], [
            [r.getAttribute("id")
             for r in items.elements(NS_PUBSUB_EVENT, "retract")]
            for _, items in notes])

    async def test_listReadRights(self):
        """
        ADM-6, AMB-50: Allowed/Banned Node Subscription govern reading:
        participants are refused by default and let in with the value
        participants.
        """
        self.assertError(await self.read(CAT_FULL, NODE_BANNED), "auth",
                         "forbidden")
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Banned Node Subscription", "participants"))))
        self.assertEqual([], await self.read(CAT_FULL, NODE_BANNED))

    async def test_removingListNodeDropsItems(self):
        """
        ADM-5: taking banned out of Nodes Present deletes the node with
        its items: banned JIDs may join again.
        """
        await self.publishItem(HAG66_FULL, NODE_BANNED, WITCH)
        self.assertError(await self.h.join(WITCH), "auth", "forbidden")
        self.assertResult(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Nodes Present",
                 ["participants", "presence", "information"]))))
        self.assertResult(await self.h.join(WITCH))

    # Service-written nodes (PS-2, PS-3)

    async def test_serviceNodesStayReadOnly(self):
        """
        PS-2, PS-3: participants, jidmap, presence and messages are never
        writable, not even by the owner or a service operator.
        """
        for sender in (HAG66_FULL, OPERATOR):
            for node in (NODE_PARTICIPANTS, NODE_JIDMAP, NODE_PRESENCE,
                         NODE_MESSAGES):
                self.assertError(await self.publishForm(
                    sender, node, submitForm(
                        ("Name", "x"))), "auth", "forbidden")
                self.assertError(await self.retractItem(sender, node,
                                                        self.catProxy),
                                 "auth", "forbidden")
        self.assertIn(CAT, await self.participantJIDs())

    async def test_infoConfigRetract(self):
        """
        NODE-9, NODE-12: the info and config items cannot be retracted
        (feature-not-implemented).
        """
        for node in (NODE_INFO, NODE_CONFIG):
            itemId = (await self.form(HAG66_FULL, node))[0]
            self.assertError(await self.retractItem(HAG66_FULL, node, itemId),
                             "cancel", "feature-not-implemented")

    # Found in review

    async def test_visibilityIsTheOwnersDecision(self):
        """
        ACL-4, VIS-1, VIS-6: even where participants may update the
        information, only owners change JID Visibility; other fields they
        may change.
        """
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("Information Node Update Rights", "participants"))))
        for sender in (CAT_FULL, HECATE_FULL):
            response = await self.publishForm(sender, NODE_INFO, submitForm(
                ("JID Visibility", "jid-visible")))
            self.assertError(response, "auth", "forbidden")
        self.publishedId(await self.publishForm(
            CAT_FULL, NODE_INFO, submitForm(
                ("Name", "Coven"))))
        self.assertEqual(
            ["jid-hidden"],
            (await self.form(HAG66_FULL, NODE_INFO))[1]["JID Visibility"])
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("JID Visibility", "jid-visible"))))

    async def test_excludedLeaveBeforeModeIsStored(self):
        """
        VIS-4: the participants a new mode excludes are gone before the
        mode is stored.
        """
        self.assertResult(await self.h.join(WITCH, extra=submitForm(
            ("JID Visibility", "never"))))
        seen = []
        store = self.h.store
        update = store.updateChannel

        async def recording(record):
            if record.info.get("JID Visibility") == "jid-visible":
                seen.append(await store.getParticipant("coven", WITCH))
            return await update(record)
        self.patch(store, "updateChannel", recording)
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_CONFIG, submitForm(
                ("JID Visibility", "jid-visible"))))
        self.assertEqual([None], seen)

    async def test_ownersAreUsers(self):
        """
        ACL-2: owners and administrators are users' JIDs; a domain is
        C{not-acceptable} and changes nothing (a contact may be one).
        """
        for var in ("Owner", "Administrator"):
            response = await self.publishForm(
                HAG66_FULL, NODE_CONFIG, submitForm(
                    (var, "shakespeare.example")))
            self.assertError(response, "modify", "not-acceptable")
        self.assertEqual(
            [HAG66], (await self.form(HAG66_FULL, NODE_CONFIG))[1]["Owner"])
        self.publishedId(await self.publishForm(
            HAG66_FULL, NODE_INFO, submitForm(
                ("Contact", "shakespeare.example"))))

    async def test_listItemTooLong(self):
        """
        ADM-7: an item id beyond the RFC 7622 limits is a C{bad-request}.
        """
        response = await self.publishItem(HAG66_FULL, NODE_BANNED,
                                          "x" * 1100 + "@heath.example")
        self.assertError(response, "modify", "bad-request")


class AdminMemoryTests(MemoryStoreMixin, AdminTestsMixin, unittest.TestCase):
    pass


class AdminPgsqlTests(PgsqlStoreMixin, AdminTestsMixin, unittest.TestCase):
    pass
