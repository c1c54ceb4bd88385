"""
Tests for the fan-out of reflected messages and notifications
(L{mixtwisted.fanout}): one serialization, many addressed copies
(requirements.md MSG-5, MSG-6, PS-5).
"""

import re

from twisted.trial import unittest
from twisted.words.xish import domish

import mixtwisted.handlers.messages
from mixtwisted.fanout import StanzaNotifier, Template, serialize
from mixtwisted.nodes import NodeItem
from tests.helpers import (
    COVEN, DOMAIN, HAG66, HAG66_FULL, MIXTestMixin, MemoryStoreMixin,
    NODE_MESSAGES, NODE_PARTICIPANTS, NS_MIX, child, parse, smallSettings)
from tests.pgsql import PgsqlStoreMixin

_TO = re.compile(r" to='[^']*'")


class TemplateTests(unittest.TestCase):
    """
    L{Template}: a serialized stanza addressed by splicing in C{to}.
    """

    def test_to(self):
        """
        MSG-5: the copy is the stanza with C{to} added, nothing else
        changed.
        """
        t = Template("<message from='c@d' type='groupchat'><body>x y</body>"
                     "</message>")
        copy = t.to("a@b")
        self.assertEqual("<message to='a@b' from='c@d' type='groupchat'>"
                         "<body>x y</body></message>", copy)
        self.assertEqual("a@b", parse(copy)["to"])

    def test_escapesQuotesAndAmpersands(self):
        """
        MSG-5: C{to} values are escaped as attribute values; the copy
        parses back to the same JID.
        """
        t = Template("<message from='c@d'><body>x</body></message>")
        for jid in ("o'brien@example.com", 'say"hi"@example.com',
                    "a&b@example.com", "x<y@example.com/r>'&\""):
            copy = t.to(jid)
            element = parse(copy)
            self.assertEqual(jid, element["to"])
            self.assertEqual("c@d", element["from"])
            self.assertEqual("x", str(element.body))

    def test_noAttributes(self):
        """
        MSG-5: a stanza without attributes gets C{to} as its only
        attribute.
        """
        copy = Template("<message><body>a b</body></message>").to("a@b")
        self.assertEqual("<message to='a@b'><body>a b</body></message>",
                         copy)

    def test_emptyElementNoAttributes(self):
        """
        MSG-5: an empty stanza without attributes (C{<message/>}) is
        addressed to well-formed XML.
        """
        copy = Template("<message/>").to("a@b")
        self.assertEqual("<message to='a@b'/>", copy)

    def test_sendTo(self):
        """
        MSG-5: C{sendTo} sends one copy per recipient, in order.
        """
        sent = []
        Template("<message from='c@d'/>").sendTo(sent.append,
                                                 ["a@b", "e@f", "g@h"])
        self.assertEqual(["a@b", "e@f", "g@h"],
                         [parse(s)["to"] for s in sent])
        self.assertEqual(1, len(set(_TO.sub("", s) for s in sent)))

    def test_serializeDefaultNamespace(self):
        """
        C{serialize} writes the stanza in the stream's default namespace
        (no xmlns on the stanza element), children in other namespaces
        keep theirs.
        """
        element = domish.Element(("jabber:component:accept", "message"))
        element["from"] = "c@d"
        element.addElement("body", content="x")
        element.addElement((NS_MIX, "mix"))
        xml = serialize(element)
        self.assertTrue(xml.startswith("<message from='c@d'>"), xml)
        self.assertIn("<body>x</body>", xml)
        self.assertIn("xmlns='%s'" % (NS_MIX,), xml)


class StanzaNotifierTests(unittest.TestCase):
    """
    L{StanzaNotifier}: PubSub notifications as copies of one serialization
    (PS-5).
    """

    def test_itemsPublished(self):
        """
        PS-5: one copy per recipient, identical apart from C{to}.
        """
        sent = []
        notifier = StanzaNotifier(sent.append)
        recipients = ["u%d@example.com" % (i,) for i in range(5)]
        notifier.itemsPublished(COVEN, NODE_PARTICIPANTS,
                                [NodeItem("p1#coven@" + DOMAIN)], recipients)
        self.assertEqual(recipients, [parse(s)["to"] for s in sent])
        self.assertEqual(1, len(set(_TO.sub("", s) for s in sent)))
        event = parse(sent[0])
        self.assertEqual(COVEN, event["from"])
        self.assertIn(NODE_PARTICIPANTS, sent[0])

    def test_itemsRetracted(self):
        """
        PS-5: retraction notifications go one per recipient too.
        """
        sent = []
        StanzaNotifier(sent.append).itemsRetracted(
            COVEN, NODE_PARTICIPANTS, ["p1#coven@" + DOMAIN], ["a@b", "c@d"])
        self.assertEqual(["a@b", "c@d"], [parse(s)["to"] for s in sent])
        self.assertIn("retract", sent[0])

    def test_noRecipients(self):
        """
        PS-5: no recipients, nothing sent.
        """
        sent = []
        StanzaNotifier(sent.append).itemsPublished(
            COVEN, NODE_PARTICIPANTS, [], [])
        self.assertEqual([], sent)


class FanoutTestsMixin(MIXTestMixin):
    """
    A groupchat message to a channel with many subscribers is built and
    serialized once (MSG-5, MSG-6).
    """

    def makeSettings(self):
        return smallSettings()

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        await self.h.create()
        await self.h.join(HAG66)
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.users = ["user%02d@shakespeare.example" % (i,)
                      for i in range(20)]
        for user in self.users:
            await self.h.join(user, nodes=(NODE_MESSAGES,))
        self.h.take()

    async def test_serializedOnce(self):
        """
        MSG-5, MSG-6: with 21 subscribers the reflection is serialized at
        most twice (one plain, one with the originator's submission-id),
        and no other element is serialized on the way out.
        """
        counts = {"serialize": 0, "toXml": 0}
        real = mixtwisted.handlers.messages.serialize
        realToXml = domish.Element.toXml

        def counting(element):
            counts["serialize"] += 1
            return real(element)

        def countingToXml(element, *a, **kw):
            counts["toXml"] += 1
            return realToXml(element, *a, **kw)

        self.patch(mixtwisted.handlers.messages, "serialize", counting)
        self.patch(domish.Element, "toXml", countingToXml)
        await self.h.message(HAG66_FULL, "hi", "sub-1")
        raw = self.h.raw()
        self.assertLessEqual(counts["serialize"], 2)
        self.assertLessEqual(counts["toXml"], 2)
        self.assertEqual(21, len(raw))

    async def test_copiesDifferOnlyInTo(self):
        """
        MSG-5, MSG-6: every subscriber's copy is the same string apart
        from C{to}; the originator's differs only by the submission-id.
        """
        await self.h.message(HAG66_FULL, "hi", "sub-1")
        raw = self.h.raw()
        byTo = dict((parse(s)["to"], s) for s in raw)
        self.assertEqual(sorted(self.users + [HAG66]), sorted(byTo))
        others = set(_TO.sub("", byTo[u]) for u in self.users)
        self.assertEqual(1, len(others))
        own = _TO.sub("", byTo[HAG66])
        self.assertEqual(
            others.pop().replace("</mix>",
                                 "<submission-id>sub-1</submission-id></mix>"),
            own)
        sub = child(child(parse(byTo[HAG66]), NS_MIX, "mix"), NS_MIX,
                    "submission-id")
        self.assertEqual("sub-1", str(sub))


class FanoutMemoryTests(MemoryStoreMixin, FanoutTestsMixin,
                        unittest.TestCase):
    pass


class FanoutPgsqlTests(PgsqlStoreMixin, FanoutTestsMixin,
                       unittest.TestCase):
    pass
