"""
Tests for private messages through proxy JIDs (requirements.md 1.17
PM-1..6 with the decoded addressing table, PJID-6, PJID-9, VIS-6, MAM-6).
"""

from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    CAT, CAT_FULL, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, archiveCount, child,
    errorCondition, submitForm)
from tests.pgsql import PgsqlStoreMixin

HAG66_OTHER = "hag66@shakespeare.example/UUID-b2k/1111"
HECATE_OTHER = "hecate@shakespeare.example/UUID-z9z/0000"


class PrivateTestsMixin(MIXTestMixin):
    """
    hag66 created coven; hag66, hecate and cat have joined.
    """

    form = ""

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(form=self.form))
        self.hagProxy = await self.proxyOf(HAG66)
        self.hecateProxy = await self.proxyOf(HECATE)
        self.catProxy = await self.proxyOf(CAT)
        self.h.take()

    async def pm(self, sender, to, body="Where hast thou been, sister?",
                 mid="pm1", kind="chat", extra=""):
        typeAttr = " type='%s'" % (kind,) if kind is not None else ""
        return await self.send(
            "<message%s id='%s' from='%s' to='%s'>"
            "<body>%s</body>%s</message>"
            % (typeAttr, mid, sender, to, body, extra))

    def relayed(self, out):
        self.assertEqual(1, len(out), [s.toXml() for s in out])
        self.assertIsNone(errorCondition(out[0]), out[0].toXml())
        return out[0]

    def assertOnlyError(self, out, errorType, condition, mid="pm1"):
        self.assertEqual(1, len(out), [s.toXml() for s in out])
        self.assertEqual((errorType, condition), errorCondition(out[0]),
                         out[0].toXml())
        self.assertEqual(mid, out[0]["id"])


class PrivateTests(PrivateTestsMixin):

    async def test_firstMessage(self):
        """
        PM-3 hops 1-2: a chat message from hag66's real full JID to
        hecate's bare proxy JID goes to hecate's real bare JID, from hag66's
        full proxy JID (bare proxy + resource); id, type and payload kept.
        """
        message = self.relayed(await self.pm(
            HAG66_FULL, self.hecateProxy,
            extra="<thread>th1</thread><x xmlns='urn:example'>p</x>"))
        self.assertEqual(HECATE, message["to"])
        sender = JID(message["from"])
        self.assertEqual(self.hagProxy, sender.userhost())
        self.assertTrue(sender.resource)
        self.assertEqual("pm1", message["id"])
        self.assertEqual("chat", message["type"])
        self.assertEqual("Where hast thou been, sister?",
                         str(child(message, message.uri, "body")))
        self.assertEqual("th1", str(child(message, message.uri, "thread")))
        self.assertEqual("p", str(child(message, "urn:example", "x")))
        self.assertNotIn("hag66@", message.toXml())

    async def test_normalType(self):
        """
        PM-2: a message without type (normal) is a private message too,
        relayed without type.
        """
        message = self.relayed(await self.pm(HAG66_FULL, self.hecateProxy,
                                             kind=None))
        self.assertEqual(HECATE, message["to"])
        self.assertIsNone(message.getAttribute("type"))

    async def test_stableFullProxy(self):
        """
        PJID-6, PM-6: the full proxy JID is stable per real full JID; a
        second client of the same user gets another resource.
        """
        first = self.relayed(
            await self.pm(HAG66_FULL, self.hecateProxy))["from"]
        again = self.relayed(await self.pm(HAG66_FULL, self.catProxy,
                                           mid="pm2"))["from"]
        other = self.relayed(await self.pm(HAG66_OTHER, self.hecateProxy,
                                           mid="pm3"))["from"]
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)
        self.assertEqual(JID(first).userhost(), JID(other).userhost())
        self.assertNotIn("UUID", first + other)

    async def test_replyAndLaterMessages(self):
        """
        PM-3 hops 4-7: hecate replies from its real full JID to hag66's
        full proxy JID; the channel delivers to hag66's real full JID
        (the client that wrote) from hecate's full proxy JID; hag66's next
        message to that full proxy JID reaches hecate's replying client.
        """
        hagFullProxy = self.relayed(await self.pm(HAG66_FULL,
                                                  self.hecateProxy))["from"]
        reply = self.relayed(await self.pm(HECATE_FULL, hagFullProxy,
                                           body="Killing swine", mid="pm2"))
        self.assertEqual(HAG66_FULL, reply["to"])
        hecateFullProxy = reply["from"]
        self.assertEqual(self.hecateProxy, JID(hecateFullProxy).userhost())
        self.assertTrue(JID(hecateFullProxy).resource)
        self.assertEqual("pm2", reply["id"])
        self.assertEqual("Killing swine",
                         str(child(reply, reply.uri, "body")))
        later = self.relayed(await self.pm(HAG66_FULL, hecateFullProxy,
                                           mid="pm3"))
        self.assertEqual(HECATE_FULL, later["to"])
        self.assertEqual(hagFullProxy, later["from"])
        for stanza in (reply, later):
            text = stanza.toXml()
            self.assertNotIn("UUID", text.replace(stanza["to"], ""))

    async def test_neverArchived(self):
        """
        PM-4, MAM-6: private messages are not archived by the channel.
        """
        before = await archiveCount(self.h)
        hagFullProxy = self.relayed(await self.pm(HAG66_FULL,
                                                  self.hecateProxy))["from"]
        self.relayed(await self.pm(HECATE_FULL, hagFullProxy, mid="pm2"))
        self.assertEqual(before, await archiveCount(self.h))

    async def test_groupchatBadRequest(self):
        """
        PM-2: a groupchat message to a proxy JID → C{bad-request}, nothing
        relayed.
        """
        out = await self.pm(HAG66_FULL, self.hecateProxy, kind="groupchat")
        self.assertOnlyError(out, "modify", "bad-request")

    async def test_nonParticipantForbidden(self):
        """
        PM-5: the sender must be a participant → C{forbidden}.
        """
        out = await self.pm("macbeth@shakespeare.example/x", self.hecateProxy)
        self.assertOnlyError(out, "auth", "forbidden")
        await self.h.leave(CAT)
        self.h.take()
        out = await self.pm(CAT_FULL, self.hecateProxy)
        self.assertOnlyError(out, "auth", "forbidden")

    async def test_unknownProxy(self):
        """
        PM-5, PJID-5: a proxy JID naming nobody → C{item-not-found}; so
        does the proxy JID of someone who left.
        """
        out = await self.pm(HAG66_FULL, "nosuchid#coven@" + DOMAIN)
        self.assertOnlyError(out, "cancel", "item-not-found")
        await self.h.leave(CAT)
        self.h.take()
        out = await self.pm(HAG66_FULL, self.catProxy, mid="pm2")
        self.assertOnlyError(out, "cancel", "item-not-found", mid="pm2")

    async def test_unmappedFullProxy(self):
        """
        PM-5: a full proxy JID whose resource was never issued →
        C{service-unavailable}; so is one issued to another participant's
        client (resources are per proxy id).
        """
        out = await self.pm(HAG66_FULL, self.hecateProxy + "/nosuchres")
        self.assertOnlyError(out, "cancel", "service-unavailable")
        catFullProxy = self.relayed(await self.pm(CAT_FULL, self.hagProxy,
                                                  mid="pm2"))["from"]
        resource = JID(catFullProxy).resource
        out = await self.pm(HAG66_FULL, self.hecateProxy + "/" + resource,
                            mid="pm3")
        self.assertOnlyError(out, "cancel", "service-unavailable",
                             mid="pm3")

    async def test_recipientBlocks(self):
        """
        PM-1, PM-5, PREF-6: a recipient whose C{Private Messages}
        preference is C{block} gets nothing; the sender gets
        C{not-allowed} (cancel).
        """
        response = await self.h.join(HECATE, extra=submitForm(
            ("Private Messages", "block")))
        self.assertResult(response)
        self.h.take()
        out = await self.pm(HAG66_FULL, self.hecateProxy)
        self.assertOnlyError(out, "cancel", "not-allowed")
        # hecate may still send to others.
        self.relayed(await self.pm(HECATE_FULL, self.catProxy, mid="pm2"))

    async def test_errorTypeNeverAnswered(self):
        """
        ERR-6, PM-5: a message of type error to a bare or full proxy JID
        is neither answered nor relayed.
        """
        hagFullProxy = self.relayed(await self.pm(HAG66_FULL,
                                                  self.hecateProxy))["from"]
        for target in (self.hagProxy, hagFullProxy, hagFullProxy + "x"):
            out = await self.send(
                "<message type='error' id='pm1' from='%s' to='%s'>"
                "<error type='cancel'><item-not-found xmlns="
                "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
                % (HECATE, target))
            self.assertEqual([], out, target)

    async def test_headlineIgnored(self):
        """
        MSG-11, PM-2: a headline to a proxy JID is ignored.
        """
        self.assertEqual([], await self.pm(HAG66_FULL, self.hecateProxy,
                                           kind="headline"))
        self.assertEqual([], await self.pm(HAG66_FULL, self.hecateProxy + "/r",
                                           kind="headline"))
        self.assertEqual([], await self.pm(
            HAG66_FULL, "nosuchid#coven@" + DOMAIN, kind="headline"))

    async def test_errorsHideRealJIDs(self):
        """
        VIS-6: an error answer comes from the proxy JID addressed and names
        no other user's real JID.
        """
        response = await self.h.join(HECATE, extra=submitForm(
            ("Private Messages", "block")))
        self.assertResult(response)
        self.h.take()
        out = await self.pm(HAG66_FULL, self.hecateProxy)
        self.assertEqual(self.hecateProxy, out[0]["from"])
        self.assertNotIn("hecate@", out[0].toXml())


class NoPrivateMessagesTests(PrivateTestsMixin):

    form = submitForm(("Private Messages", "false"))

    async def test_channelForbidsPM(self):
        """
        PM-1: with the channel's C{Private Messages} false → C{not-allowed}
        (cancel), nothing relayed, in both directions.
        """
        out = await self.pm(HAG66_FULL, self.hecateProxy)
        self.assertOnlyError(out, "cancel", "not-allowed")
        out = await self.pm(HECATE_FULL, self.hagProxy + "/abc", mid="pm2")
        self.assertOnlyError(out, "cancel", "not-allowed", mid="pm2")


class PrivateMemoryTests(MemoryStoreMixin, PrivateTests, unittest.TestCase):
    pass


class PrivatePgsqlTests(PgsqlStoreMixin, PrivateTests, unittest.TestCase):
    pass


class NoPrivateMessagesMemoryTests(MemoryStoreMixin, NoPrivateMessagesTests,
                                   unittest.TestCase):
    pass


class NoPrivateMessagesPgsqlTests(PgsqlStoreMixin, NoPrivateMessagesTests,
                                  unittest.TestCase):
    pass
