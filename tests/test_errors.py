"""
Tests for error handling (requirements.md 1.23 ERR-1..7 with the condition
map, and the size limits of L{mixtwisted.settings.Limits}).
"""

from twisted.trial import unittest

import mixtwisted.channels
from tests.helpers import (
    CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MemoryStoreMixin, NODE_PARTICIPANTS, NS_DISCO_INFO, NS_DISCO_ITEMS,
    NS_MAM2, NS_MIX, NS_PUBSUB, SmallChannelMixin, archiveCount,
    errorCondition, groupchats, parse)
from tests.pgsql import PgsqlStoreMixin

BAD_JID = "a@b@c"


class ErrorTestsMixin(SmallChannelMixin):
    """
    Errors and stanzas that must not be answered (ERR-*).
    """

    def assertSwapped(self, response, sender, recipient):
        """
        The response goes back to the sender, from the addressee.
        """
        self.assertEqual(sender, response.getAttribute("to"),
                         response.toXml())
        self.assertEqual(recipient, response.getAttribute("from"),
                         response.toXml())

    def assertNothingLogged(self):
        logged = self.flushLoggedErrors()
        self.assertEqual([], [str(f.value) for f in logged],
                         [f.getTraceback() for f in logged])

    # ERR-2, ERR-6: unknown IQ payload

    async def test_unknownPayloadChannel(self):
        """
        ERR-2, ERR-6: an unknown IQ payload to a channel is
        C{service-unavailable} (cancel), to and from swapped.
        """
        for kind in ("get", "set"):
            response = await self.h.iq(
                "<iq type='%s' id='u1' from='%s' to='%s'>"
                "<foo xmlns='urn:example:unknown'/></iq>"
                % (kind, HAG66_FULL, COVEN))
            self.assertError(response, "cancel", "service-unavailable")
            self.assertSwapped(response, HAG66_FULL, COVEN)
        self.assertEqual([], self.h.take())

    async def test_unknownPayloadService(self):
        """
        ERR-2, ERR-6: an unknown IQ payload to the service is
        C{service-unavailable} (cancel).
        """
        response = await self.h.iq(
            "<iq type='get' id='u2' from='%s' to='%s'>"
            "<query xmlns='jabber:iq:version'/></iq>" % (HAG66_FULL, DOMAIN))
        self.assertError(response, "cancel", "service-unavailable")
        self.assertSwapped(response, HAG66_FULL, DOMAIN)
        self.assertEqual([], self.h.take())

    async def test_unknownPayloadProxy(self):
        """
        ERR-6: an unknown IQ payload to a proxy JID gets exactly one
        error, C{service-unavailable}.
        """
        response = await self.h.iq(
            "<iq type='get' id='u3' from='%s' to='%s'>"
            "<foo xmlns='urn:example:unknown'/></iq>"
            % (HECATE_FULL, self.hagProxy))
        self.assertError(response, "cancel", "service-unavailable")
        self.assertSwapped(response, HECATE_FULL, self.hagProxy)

    async def test_emptyIQ(self):
        """
        ERR-6: an IQ get without payload still gets exactly one error.
        """
        response = await self.h.iq("<iq type='get' id='e0' from='%s' to='%s'/>"
                                   % (HAG66_FULL, COVEN))
        self.assertEqual("error", response["type"])
        self.assertSwapped(response, HAG66_FULL, COVEN)

    async def test_resultAndErrorIQsUnanswered(self):
        """
        ERR-6: IQ results and errors to the service, a channel or a proxy
        JID produce no output at all.
        """
        for target in (DOMAIN, COVEN, self.hagProxy, "nosuch@" + DOMAIN):
            for xml in (
                    "<iq type='result' id='r1' from='%s' to='%s'/>",
                    "<iq type='result' id='r2' from='%s' to='%s'>"
                    "<query xmlns='jabber:iq:version'/></iq>",
                    "<iq type='result' id='r3' from='%s' to='%s'>"
                    "<query xmlns='%s'/></iq>" % ("%s", "%s", NS_DISCO_INFO),
                    "<iq type='error' id='r4' from='%s' to='%s'>"
                    "<error type='cancel'><item-not-found "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                    "</iq>"):
                out = await self.send(xml % (HAG66_FULL, target))
                self.assertEqual([], [s.toXml() for s in out], (xml, target))
        self.assertNothingLogged()

    async def test_errorMessageUnanswered(self):
        """
        ERR-6: a message of type error (to a channel, the service, a proxy
        or an unknown channel) produces no output.
        """
        for target in (COVEN, DOMAIN, self.hagProxy, "nosuch@" + DOMAIN):
            out = await self.send(
                "<message type='error' id='me' from='%s' to='%s'>"
                "<error type='wait'><remote-server-timeout "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                "</message>" % (HAG66, target))
            self.assertEqual([], out, target)
        self.assertNothingLogged()

    # ERR-3

    async def test_messageErrorShape(self):
        """
        ERR-3: a message hitting an error gets a message of type error
        back, with the original id, to and from swapped, and an RFC 6120
        condition.
        """
        out = await self.send(
            "<message type='groupchat' id='orig-7' from='%s' "
            "to='%s'><body>hi</body></message>"
            % (CAT_FULL, COVEN))
        self.assertEqual(1, len(out))
        error = out[0]
        self.assertEqual("message", error.name)
        self.assertEqual("error", error["type"])
        self.assertEqual("orig-7", error["id"])
        self.assertSwapped(error, CAT_FULL, COVEN)
        self.assertIsNotNone(errorCondition(error))

    # ERR-4

    async def test_presenceNoError(self):
        """
        ERR-4: presence of any type to the channel, the service or a
        proxy JID never gets an error reply.
        """
        for target in (COVEN, DOMAIN, self.hagProxy, "nosuch@" + DOMAIN):
            for attrs in ("", " type='unavailable'", " type='error'",
                          " type='probe'", " type='subscribe'"):
                out = await self.send("<presence%s from='%s' to='%s'/>"
                                      % (attrs, HAG66_FULL, target))
                errors = [s.toXml() for s in out
                          if s.getAttribute("type") == "error"]
                self.assertEqual([], errors, (attrs, target))
                if attrs in (" type='unavailable'", " type='error'"):
                    self.assertEqual([], out)
        self.assertNothingLogged()

    # Malformed addresses: an error or nothing, never an exception.

    async def assertMalformedHandled(self, xml, iqId="bad1"):
        out = await self.send(xml)
        self.assertNothingLogged()
        for stanza in out:
            self.assertEqual("error", stanza.getAttribute("type"),
                             stanza.toXml())
            self.assertEqual(iqId, stanza.getAttribute("id"))
            self.assertNotEqual(("wait", "internal-server-error"),
                                errorCondition(stanza), stanza.toXml())
        self.assertTrue(len(out) <= 1, [s.toXml() for s in out])

    async def test_malformedFromJoin(self):
        """
        ERR-1, ERR-6: a join from a malformed JID is answered with an
        error (or not at all), never with an escaped exception.
        """
        await self.assertMalformedHandled(
            "<iq type='set' id='bad1' from='%s' to='%s'>"
            "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
            % (BAD_JID, COVEN, NS_MIX, NODE_PARTICIPANTS))

    async def test_malformedFromMAM(self):
        """
        ERR-1, ERR-6: a MAM query from a malformed JID: error or nothing.
        """
        await self.assertMalformedHandled(
            "<iq type='set' id='bad1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (BAD_JID, COVEN, NS_MAM2))

    async def test_malformedFromUnknownPayload(self):
        """
        ERR-1, ERR-6: an unknown payload from a malformed JID: error or
        nothing.
        """
        await self.assertMalformedHandled(
            "<iq type='get' id='bad1' from='%s' to='%s'>"
            "<foo xmlns='urn:example:unknown'/></iq>" % (BAD_JID, COVEN))

    async def test_malformedFromDiscoInfo(self):
        """
        ERR-1, ERR-6: a disco#info query from a malformed JID: error or
        nothing, no exception logged.
        """
        await self.assertMalformedHandled(
            "<iq type='get' id='bad1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (BAD_JID, COVEN, NS_DISCO_INFO))

    async def test_malformedFromDiscoItems(self):
        """
        ERR-1, ERR-6: a disco#items query from a malformed JID: error or
        nothing, no exception logged.
        """
        await self.assertMalformedHandled(
            "<iq type='get' id='bad1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (BAD_JID, DOMAIN, NS_DISCO_ITEMS))

    async def test_malformedFromPubSub(self):
        """
        ERR-1, ERR-5: a PubSub items request from a malformed JID: error
        or nothing, no exception logged.
        """
        await self.assertMalformedHandled(
            "<iq type='get' id='bad1' from='%s' to='%s'>"
            "<pubsub xmlns='%s'><items node='%s'/></pubsub></iq>"
            % (BAD_JID, COVEN, NS_PUBSUB, NODE_PARTICIPANTS))

    async def test_malformedToDiscoInfo(self):
        """
        ERR-1, ERR-6: a disco#info query to a malformed JID: error or
        nothing, no exception logged.
        """
        await self.assertMalformedHandled(
            "<iq type='get' id='bad1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, BAD_JID, NS_DISCO_INFO))

    async def test_malformedToJoin(self):
        """
        ERR-1, ERR-6: a join to a malformed JID: error or nothing.
        """
        await self.assertMalformedHandled(
            "<iq type='set' id='bad1' from='%s' to='%s'>"
            "<join xmlns='%s'/></iq>" % (HAG66_FULL, BAD_JID, NS_MIX))

    async def test_missingFromDiscoInfo(self):
        """
        ERR-1, ERR-6: a disco#info query without C{from}: error or
        nothing, no exception logged.
        """
        await self.assertMalformedHandled(
            "<iq type='get' id='bad1' to='%s'><query xmlns='%s'/></iq>"
            % (COVEN, NS_DISCO_INFO))

    async def test_malformedFromMessage(self):
        """
        ERR-1, ERR-3: a groupchat message from a malformed JID: error or
        nothing; never reflected.
        """
        await self.h.receive(
            "<message type='groupchat' id='bad1' from='%s' "
            "to='%s'><body>x</body></message>" % (BAD_JID, COVEN))
        out = self.h.take()
        self.assertNothingLogged()
        self.assertEqual([], groupchats(out))
        for stanza in out:
            self.assertEqual("error", stanza["type"])
            self.assertEqual("bad1", stanza["id"])

    async def test_malformedFromPresence(self):
        """
        ERR-4: presence from a malformed JID: no error reply, nothing
        logged.
        """
        out = await self.send("<presence from='%s' to='%s'/>"
                              % (BAD_JID, COVEN))
        self.assertNothingLogged()
        self.assertEqual([], out)

    # Bad requests

    async def test_subscribeWithoutNode(self):
        """
        ERR-7, JOIN-1: a join with C{<subscribe/>} lacking C{node} is
        C{bad-request} (modify).
        """
        response = await self.h.iq(
            "<iq type='set' id='j9' from='%s' to='%s'>"
            "<join xmlns='%s'><subscribe/></join></iq>"
            % (HECATE, COVEN, NS_MIX))
        self.assertError(response, "modify", "bad-request")
        self.assertSwapped(response, HECATE, COVEN)

    # Internal errors

    async def test_internalError(self):
        """
        ERR-7: an unexpected exception in a handler becomes
        C{internal-server-error} (wait) without any traceback or exception
        text on the wire; the error is logged.
        """
        def boom(*args, **kwargs):
            raise RuntimeError("secret details of the failure")

        self.patch(mixtwisted.channels.ChannelService, "join", boom)
        await self.h.receive(
            "<iq type='set' id='j5' from='%s' to='%s'>"
            "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
            % (HECATE, COVEN, NS_MIX, NODE_PARTICIPANTS))
        sent = list(self.h.stub.output)
        raw = self.h.raw()
        self.assertEqual(1, len(raw), raw)
        self.assertNotIn("Traceback", raw[0])
        self.assertNotIn("RuntimeError", raw[0])
        self.assertNotIn("secret details", raw[0])
        self.assertEqual(1, len(self.flushLoggedErrors(RuntimeError)))
        response = parse(sent[0])
        self.assertEqual("j5", response["id"])
        self.assertError(response, "wait", "internal-server-error")
        self.assertSwapped(response, HECATE, COVEN)

    # Limits

    async def test_messageTooLarge(self):
        """
        ERR-7, Limits.maxMessageBytes: a message larger than the limit is
        refused with C{policy-violation} (modify) to the sender, with the
        original id; nothing reflected or archived.
        """
        await self.h.join(HECATE)
        await self.h.setnick(HECATE_FULL, "hecate")
        self.h.take()
        out = await self.send("<message type='groupchat' id='big1' from='%s' "
                              "to='%s'><body>%s</body></message>"
                              % (HAG66_FULL, COVEN, "x" * 3000))
        self.assertEqual(1, len(out), [s.toXml()[:200] for s in out])
        self.assertEqual(("modify", "policy-violation"),
                         errorCondition(out[0]))
        self.assertEqual("big1", out[0]["id"])
        self.assertSwapped(out[0], HAG66_FULL, COVEN)
        self.assertEqual([], groupchats(out))
        self.assertEqual(0, await archiveCount(self.h))

    async def test_messageLimitCountsBytes(self):
        """
        Limits.maxMessageBytes is in UTF-8 bytes: 800 three-byte
        characters (2400 bytes) exceed a 2000-byte limit.
        """
        out = await self.send("<message type='groupchat' id='big2' from='%s' "
                              "to='%s'><body>%s</body></message>"
                              % (HAG66_FULL, COVEN, "\u20ac" * 800))
        self.assertEqual(1, len(out))
        self.assertEqual(("modify", "policy-violation"),
                         errorCondition(out[0]))
        self.assertEqual(0, await archiveCount(self.h))

    async def test_messageUnderLimit(self):
        """
        Limits.maxMessageBytes: a message under the limit is accepted.
        """
        out = await self.send("<message type='groupchat' id='ok1' from='%s' "
                              "to='%s'><body>%s</body></message>"
                              % (HAG66_FULL, COVEN, "x" * 500))
        self.assertEqual(1, len(groupchats(out)))
        self.assertEqual(1, await archiveCount(self.h))

    async def test_nickTooLong(self):
        """
        ERR-7, NICK-*, Limits.maxNickLength: a nick longer than the limit
        is C{not-acceptable} (modify).
        """
        response = await self.h.setnick(HAG66_FULL, "n" * 65)
        self.assertError(response, "modify", "not-acceptable")
        self.assertSwapped(response, HAG66_FULL, COVEN)
        self.assertResult(await self.h.setnick(HAG66_FULL, "n" * 64))

    async def test_channelNameTooLong(self):
        """
        ERR-7, CRE-*, Limits.maxChannelNameLength: a channel name longer
        than the limit is C{not-acceptable} (modify).
        """
        response = await self.h.create("c" * 65)
        self.assertError(response, "modify", "not-acceptable")
        self.assertSwapped(response, HAG66_FULL, DOMAIN)
        self.assertResult(await self.h.create("c" * 64))


class ErrorMemoryTests(MemoryStoreMixin, ErrorTestsMixin, unittest.TestCase):
    pass


class ErrorPgsqlTests(PgsqlStoreMixin, ErrorTestsMixin, unittest.TestCase):
    pass
