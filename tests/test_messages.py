"""
Tests for messages to a channel: reflection, archiving and the errors a
message may meet (requirements.md 1.14 MSG-1..11, with AMB-19, AMB-20,
AMB-21, AMB-42, AMB-53).
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_PARTICIPANTS, NS_CLIENT, NS_DELAY,
    NS_FORWARD, NS_MAM2, NS_MIX, NS_SID, NS_XML, archiveCount,
    archivedMessages, child, errorCondition, groupchats, mamQuery,
    smallSettings)
from tests.pgsql import PgsqlStoreMixin


class MessageTestsMixin(MIXTestMixin):
    """
    Groupchat messages to a channel (MSG-*).
    """

    def makeSettings(self):
        return smallSettings()

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        await self.h.create()
        self.hagProxy = (await self.h.join(HAG66)).firstChildElement()["jid"]
        self.hecateProxy = (
            await self.h.join(HECATE)).firstChildElement()["jid"]
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        await self.h.setnick(HECATE_FULL, "hecate")
        self.h.take()

    async def groupchat(self, body="Harpier cries", mid="92vax143g",
                        sender=HAG66_FULL, extra="", attrs=""):
        idAttr = " id='%s'" % (mid,) if mid is not None else ""
        return await self.send(
            "<message type='groupchat'%s from='%s' to='%s'%s>"
            "<body>%s</body>%s</message>"
            % (idAttr, sender, COVEN, attrs, body, extra))

    def copyTo(self, stanzas, bare):
        copies = [s for s in groupchats(stanzas)
                  if s.getAttribute("to") == bare]
        self.assertEqual(1, len(copies), [s.toXml() for s in stanzas])
        return copies[0]

    async def test_participantMessageReflected(self):
        """
        MSG-1: a groupchat message from a participant's full JID to the
        channel bare JID is accepted and reflected (with its body).
        """
        out = await self.groupchat("Harpier cries: 'tis time")
        copy = self.copyTo(out, HECATE)
        self.assertEqual("Harpier cries: 'tis time",
                         str(child(copy, copy.uri, "body")))
        self.assertEqual(COVEN, copy.getAttribute("from"))
        self.assertEqual("groupchat", copy.getAttribute("type"))

    async def test_nonParticipantForbidden(self):
        """
        MSG-2, AMB-20, ERR-3: a message from a non-participant gets a
        message error C{forbidden} (auth) back to the sender with the
        original id; nothing is reflected or archived.
        """
        out = await self.groupchat(sender=CAT_FULL, mid="catmsg")
        self.assertEqual(1, len(out), [s.toXml() for s in out])
        error = out[0]
        self.assertEqual("message", error.name)
        self.assertEqual(("auth", "forbidden"), errorCondition(error))
        self.assertEqual("catmsg", error.getAttribute("id"))
        self.assertEqual(CAT_FULL, error.getAttribute("to"))
        self.assertEqual(COVEN, error.getAttribute("from"))
        self.assertEqual(0, await archiveCount(self.h))

    async def test_mixElementAdded(self):
        """
        MSG-3, AMB-19: the reflected message carries
        C{<mix xmlns='urn:xmpp:mix:1'>} with the sender's nick and bare
        proxy JID.
        """
        copy = self.copyTo(await self.groupchat(), HECATE)
        mixes = list(copy.elements(NS_MIX, "mix"))
        self.assertEqual(1, len(mixes))
        self.assertEqual("thirdwitch", str(child(mixes[0], NS_MIX, "nick")))
        self.assertEqual(self.hagProxy, str(child(mixes[0], NS_MIX, "jid")))
        self.assertNotIn("/", self.hagProxy)

    async def test_clientMixRemoved(self):
        """
        MSG-3: a client-supplied C{<mix/>} (here with a forged C{<jid/>}
        and nick) is removed; only the channel's own is present.
        """
        forged = ("<mix xmlns='%s'><nick>hecate</nick>"
                  "<jid>forged#coven@%s</jid>"
                  "<submission-id>fake</submission-id></mix>"
                  % (NS_MIX, DOMAIN))
        out = await self.groupchat(extra=forged)
        for bare in (HECATE, HAG66):
            copy = self.copyTo(out, bare)
            mixes = list(copy.elements(NS_MIX, "mix"))
            self.assertEqual(1, len(mixes), copy.toXml())
            self.assertEqual(self.hagProxy,
                             str(child(mixes[0], NS_MIX, "jid")))
            self.assertEqual("thirdwitch",
                             str(child(mixes[0], NS_MIX, "nick")))
        self.assertNotIn("forged", "".join(s.toXml() for s in out))
        self.assertNotIn("fake", self.copyTo(out, HECATE).toXml())
        own = self.copyTo(out, HAG66)
        self.assertEqual(["92vax143g"], [str(e) for e in child(
            own, NS_MIX, "mix").elements(NS_MIX, "submission-id")])
        archived = await archivedMessages(self.h)
        self.assertNotIn("forged", archived[0].toXml())

    async def test_clientStanzaIdRemoved(self):
        """
        MSG-3, MSG-5: a client-supplied C{<stanza-id/>} claiming to be by
        the channel is not passed on; the reflection carries the channel's
        own C{<stanza-id/>} holding the archive id.
        """
        forged = ("<stanza-id xmlns='%s' id='forged-id' by='%s'/>"
                  % (NS_SID, COVEN))
        copy = self.copyTo(await self.groupchat(extra=forged), HECATE)
        sids = list(copy.elements(NS_SID, "stanza-id"))
        self.assertEqual(1, len(sids), copy.toXml())
        self.assertEqual(copy["id"], sids[0]["id"])

    async def test_archivedCopy(self):
        """
        MSG-4, MAM-7: the archived copy has no C{to}, its id is the archive
        id (= the C{<result id/>} and the reflected id), it is from the
        channel and carries the channel's C{<mix/>}.
        """
        out = await self.groupchat()
        reflected = self.copyTo(out, HECATE)
        response, results = await mamQuery(self.h, HAG66_FULL)
        self.assertEqual(1, len(results))
        result = child(results[0], NS_MAM2, "result")
        archived = child(child(result, NS_FORWARD, "forwarded"),
                         NS_CLIENT, "message")
        self.assertIsNone(archived.getAttribute("to"))
        self.assertEqual(reflected["id"], archived["id"])
        self.assertEqual(result["id"], archived["id"])
        self.assertEqual(COVEN, archived["from"])
        self.assertEqual("groupchat", archived["type"])
        mix = child(archived, NS_MIX, "mix")
        self.assertEqual(self.hagProxy, str(child(mix, NS_MIX, "jid")))

    async def test_copiesToSubscribers(self):
        """
        MSG-5, AMB-42: one copy per messages-node subscriber's bare JID,
        from the channel bare JID, type groupchat, the archive id on every
        copy, different from the client's id.
        """
        await self.h.join(CAT)
        await self.h.setnick(CAT_FULL, "cat")
        self.h.take()
        out = await self.groupchat(mid="client-id-1")
        copies = groupchats(out)
        self.assertEqual(sorted([HAG66, HECATE, CAT]),
                         sorted(c["to"] for c in copies))
        ids = set(c["id"] for c in copies)
        self.assertEqual(1, len(ids))
        self.assertNotIn("client-id-1", ids)
        for c in copies:
            self.assertEqual(COVEN, c["from"])
            self.assertEqual("groupchat", c["type"])
        self.assertEqual(
            ids, set(m["id"] for m in await archivedMessages(self.h)))

    async def test_unsubscribedParticipantGetsNothing(self):
        """
        MSG-5: a participant not subscribed to the messages node gets no
        copy.
        """
        await self.h.join(CAT, nodes=(NODE_PARTICIPANTS,))
        await self.h.setnick(CAT_FULL, "cat")
        self.h.take()
        out = await self.groupchat()
        self.assertEqual([], [s for s in out
                              if s.getAttribute("to", "").startswith(CAT)])
        self.assertEqual(sorted([HAG66, HECATE]),
                         sorted(c["to"] for c in groupchats(out)))

    async def test_submissionIdOnlyOnOriginatorCopy(self):
        """
        MSG-6: only the originator's copy carries C{<submission-id/>} (in
        C{<mix/>}) holding the client's id.
        """
        out = await self.groupchat(mid="92vax143g")
        own = self.copyTo(out, HAG66)
        sub = child(child(own, NS_MIX, "mix"), NS_MIX, "submission-id")
        self.assertIsNotNone(sub, own.toXml())
        self.assertEqual("92vax143g", str(sub))
        other = self.copyTo(out, HECATE)
        self.assertNotIn("submission-id", other.toXml())
        self.assertEqual(own["id"], other["id"])

    async def test_originatorNotSubscribedGetsCopy(self):
        """
        MSG-6, AMB-53: the originator gets its copy (with submission-id)
        even when not subscribed to the messages node.
        """
        await self.h.join(CAT, nodes=(NODE_PARTICIPANTS,))
        await self.h.setnick(CAT_FULL, "cat")
        self.h.take()
        out = await self.groupchat(sender=CAT_FULL, mid="cat-1")
        own = self.copyTo(out, CAT)
        sub = child(child(own, NS_MIX, "mix"), NS_MIX, "submission-id")
        self.assertEqual("cat-1", str(sub))
        self.copyTo(out, HECATE)
        self.copyTo(out, HAG66)

    async def test_noIdNoSubmissionId(self):
        """
        MSG-6: a message without id gets no C{<submission-id/>}, and still
        reaches the originator.
        """
        out = await self.groupchat(mid=None)
        own = self.copyTo(out, HAG66)
        self.assertNotIn("submission-id", own.toXml())
        self.assertTrue(own.getAttribute("id"))

    async def test_senderWithoutNickGetsGenerated(self):
        """
        MSG-7, NICK-5, AMB-21: a participant without nick that sends gets
        a generated nick (not derived from the JID), published on the
        participants node, and used in the reflection.
        """
        await self.h.join(CAT)
        self.h.take()
        out = await self.groupchat(sender=CAT_FULL, mid="c1")
        copy = self.copyTo(out, HECATE)
        nick = str(child(child(copy, NS_MIX, "mix"), NS_MIX, "nick"))
        self.assertTrue(nick)
        self.assertNotIn("cat", nick.lower())
        events = [s for s in out if s.name == "message" and
                  s.getAttribute("type") != "groupchat" and
                  nick in s.toXml() and "event" in s.toXml()]
        self.assertTrue(events, [s.toXml() for s in out])

    async def test_otherPayloadCopied(self):
        """
        MSG-9: other payload is copied unchanged: bodies in all languages,
        extension elements in other namespaces, the message's xml:lang.
        """
        extra = ("<body xml:lang='de'>Harpyie ruft</body>"
                 "<ext xmlns='urn:example:ext' a='1'><sub b='2'>t</sub>"
                 "</ext>")
        out = await self.groupchat(body="Harpier cries", extra=extra,
                                   attrs=" xml:lang='en'")
        copy = self.copyTo(out, HECATE)
        self.assertEqual("en", copy.getAttribute((NS_XML, "lang")))
        bodies = list(copy.elements(copy.uri, "body"))
        self.assertEqual(2, len(bodies))
        self.assertEqual("Harpier cries", str(bodies[0]))
        self.assertEqual("de", bodies[1].getAttribute((NS_XML, "lang")))
        self.assertEqual("Harpyie ruft", str(bodies[1]))
        ext = child(copy, "urn:example:ext", "ext")
        self.assertIsNotNone(ext, copy.toXml())
        self.assertEqual("1", ext["a"])
        sub = child(ext, "urn:example:ext", "sub")
        self.assertEqual("2", sub["b"])
        self.assertEqual("t", str(sub))
        archived = (await archivedMessages(self.h))[0]
        self.assertEqual("en", archived.getAttribute((NS_XML, "lang")))
        self.assertIsNotNone(child(archived, "urn:example:ext", "ext"))
        self.assertEqual(2, len(list(archived.elements(NS_CLIENT, "body"))))

    async def test_forwardedHistoryReflected(self):
        """
        MSG-10, CRE-14: a message forwarding (XEP-0297) an old 1:1 message
        is reflected and archived as an ordinary groupchat message, the
        forwarded message kept unchanged.
        """
        out = await self.send(
            "<message type='groupchat' id='h1' from='%s' to='%s'>"
            "<forwarded xmlns='%s'>"
            "<delay xmlns='%s' stamp='2010-07-10T23:08:25Z'/>"
            "<message xmlns='jabber:client' type='chat' id='old1' "
            "from='%s' to='%s'><body>old words</body></message>"
            "</forwarded></message>"
            % (HAG66_FULL, COVEN, NS_FORWARD, NS_DELAY, HECATE_FULL,
               HAG66_FULL))
        copy = self.copyTo(out, HECATE)
        self.assertEqual("groupchat", copy["type"])
        self.assertEqual(COVEN, copy["from"])
        forwarded = child(copy, NS_FORWARD, "forwarded")
        self.assertIsNotNone(forwarded, copy.toXml())
        self.assertEqual("2010-07-10T23:08:25Z",
                         child(forwarded, NS_DELAY, "delay")["stamp"])
        inner = child(forwarded, NS_CLIENT, "message")
        self.assertEqual("chat", inner["type"])
        self.assertEqual("old1", inner["id"])
        self.assertEqual(HECATE_FULL, inner["from"])
        self.assertEqual("old words", str(child(inner, NS_CLIENT, "body")))
        self.assertIsNotNone(child(copy, NS_MIX, "mix"))
        self.assertEqual(1, await archiveCount(self.h))

    async def test_chatMessageBadRequest(self):
        """
        MSG-11, ERR-3: a chat message to the channel gets a message error
        C{bad-request} with the original id; nothing reflected.
        """
        for kind in ("chat", "normal"):
            out = await self.send(
                "<message type='%s' id='x-%s' from='%s' to='%s'>"
                "<body>hi</body></message>" % (kind, kind, HAG66_FULL, COVEN))
            self.assertEqual(1, len(out), [s.toXml() for s in out])
            self.assertEqual(("modify", "bad-request"), errorCondition(out[0]))
            self.assertEqual("x-%s" % (kind,), out[0]["id"])
            self.assertEqual("message", out[0].name)
            self.assertEqual(HAG66_FULL, out[0]["to"])
            self.assertEqual(COVEN, out[0]["from"])

    async def test_noTypeMessageBadRequest(self):
        """
        MSG-11: a message without type (i.e. normal) is a C{bad-request}.
        """
        out = await self.send(
            "<message id='nt' from='%s' to='%s'><body>hi</body>"
            "</message>" % (HAG66_FULL, COVEN))
        self.assertEqual(1, len(out))
        self.assertEqual(("modify", "bad-request"), errorCondition(out[0]))

    async def test_headlineIgnored(self):
        """
        MSG-11: a headline message to the channel is ignored: no output,
        nothing archived.
        """
        out = await self.send(
            "<message type='headline' id='hl' from='%s' to='%s'>"
            "<body>news</body></message>" % (HAG66_FULL, COVEN))
        self.assertEqual([], out)
        self.assertEqual(0, await archiveCount(self.h))

    async def test_errorMessageNoOutput(self):
        """
        MSG-11, ERR-6: a message of type error gets no answer at all.
        """
        out = await self.send(
            "<message type='error' id='e1' from='%s' to='%s'>"
            "<error type='cancel'><service-unavailable "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            "</message>" % (HAG66, COVEN))
        self.assertEqual([], out)

    async def test_retractUnknownId(self):
        """
        MSG-11, RET-3, ERR-7: a message with C{<retract/>} is a retraction
        request, not a groupchat message: for an id the archive does not
        hold it gets C{item-not-found}; nothing is reflected or archived.
        """
        out = await self.send(
            "<message id='r1' from='%s' to='%s'>"
            "<retract xmlns='%s' id='0005543DF729C000-3F5FF542'/>"
            "</message>" % (HAG66_FULL, COVEN, NS_MIX))
        self.assertEqual(1, len(out), [s.toXml() for s in out])
        self.assertEqual(("cancel", "item-not-found"),
                         errorCondition(out[0]))
        self.assertEqual("r1", out[0]["id"])
        self.assertEqual(0, await archiveCount(self.h))

    async def test_unknownChannel(self):
        """
        ERR-7: a message to a channel that does not exist gets
        C{item-not-found}, from the address it was sent to.
        """
        target = "nosuch@" + DOMAIN
        out = await self.send(
            "<message type='groupchat' id='u1' from='%s' to='%s'>"
            "<body>hi</body></message>" % (HAG66_FULL, target))
        self.assertEqual(1, len(out))
        self.assertEqual(("cancel", "item-not-found"), errorCondition(out[0]))
        self.assertEqual("u1", out[0]["id"])
        self.assertEqual(target, out[0]["from"])
        self.assertEqual(HAG66_FULL, out[0]["to"])

    async def test_messageToService(self):
        """
        ERR-7, MSG-11: a groupchat message to the service JID gets
        C{service-unavailable}.
        """
        out = await self.send(
            "<message type='groupchat' id='s1' from='%s' to='%s'>"
            "<body>hi</body></message>" % (HAG66_FULL, DOMAIN))
        self.assertEqual(1, len(out))
        self.assertEqual(("cancel", "service-unavailable"),
                         errorCondition(out[0]))
        self.assertEqual(DOMAIN, out[0]["from"])
        self.assertEqual(HAG66_FULL, out[0]["to"])

    async def test_archiveIdsIncrease(self):
        """
        MSG-5, MAM-7: archive ids of consecutive messages strictly increase
        in string order, also within one clock tick, and are unique.
        """
        ids = []
        for i in range(5):
            copy = self.copyTo(await self.groupchat(mid="m%d" % i), HECATE)
            ids.append(copy["id"])
            if i == 2:
                await self.h.advance(1)
        self.assertEqual(sorted(ids), ids)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(
            ids, [m["id"] for m in await archivedMessages(self.h)])

    async def test_stanzaIdOnReflection(self):
        """
        MSG-5: every reflected copy carries
        C{<stanza-id xmlns='urn:xmpp:sid:0' id=ARCHIVE-ID by=CHANNEL/>}.
        """
        out = await self.groupchat()
        for bare in (HAG66, HECATE):
            copy = self.copyTo(out, bare)
            sid = child(copy, NS_SID, "stanza-id")
            self.assertIsNotNone(sid, copy.toXml())
            self.assertEqual(copy["id"], sid["id"])
            self.assertEqual(COVEN, sid["by"])

    async def test_reflectionIsOneStanza(self):
        """
        MSG-5: each subscriber gets exactly one copy of a message.
        """
        out = await self.groupchat()
        self.assertEqual(2, len(groupchats(out)))


class MessageMemoryTests(MemoryStoreMixin, MessageTestsMixin,
                         unittest.TestCase):
    pass


class MessagePgsqlTests(PgsqlStoreMixin, MessageTestsMixin,
                        unittest.TestCase):
    pass
