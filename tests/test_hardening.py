"""
Odd and hostile input: stanzas built to confuse the handlers, addresses
Twisted cannot prepare, names in other spellings, and state that must
follow a participant's change of mind.  Each test pins down a fix found in
review.
"""

from twisted.trial import unittest
from twisted.words.protocols.jabber import jid as jidmodule

from mixtwisted.handlers import guard
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, MIXTestMixin,
    MemoryStoreMixin, NODE_JIDMAP_VISIBLE, NODE_MESSAGES, NS_DISCO_INFO,
    NS_MAM2, NS_MIX, NS_PUBSUB, NS_PUBSUB_ERRORS, submitForm)
from tests.pgsql import PgsqlStoreMixin


class HardeningTestsMixin(MIXTestMixin):

    def assertNothingLogged(self):
        self.assertEqual([], self.flushLoggedErrors())

    async def test_handledChildDoesNotSilenceIQ(self):
        """
        ERR-6: a request carrying a child named C{<handled/>} is answered
        like any other (domish answers unknown attributes with children).
        """
        await self.h.create()
        response = await self.h.iq(
            "<iq type='get' id='d' from='%s' to='%s'><query xmlns='%s' "
            "node='mix'/><handled xmlns='urn:x'/></iq>"
            % (HAG66_FULL, COVEN, NS_DISCO_INFO))
        self.assertResult(response)
        response = await self.h.iq(
            "<iq type='set' id='u' from='%s' to='%s'><foo xmlns='urn:x'/>"
            "<handled/></iq>" % (HAG66_FULL, COVEN))
        self.assertError(response, "cancel", "service-unavailable")

    async def test_handledChildDoesNotSilenceMessage(self):
        """
        MSG-5, MSG-9: a groupchat message with a C{<handled/>} child is
        reflected, the child copied like any payload.
        """
        await self.h.create()
        await self.h.join()
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.h.take()
        await self.h.receive(
            "<message type='groupchat' id='m' from='%s' to='%s'><body>x"
            "</body><handled xmlns='urn:x'/></message>" % (HAG66_FULL, COVEN))
        sent = self.h.take()
        self.assertEqual(1, len(sent))
        self.assertEqual(("groupchat", "urn:x"),
                         (sent[0]["type"], sent[0].handled.uri))

    async def test_malformedSubscriberJID(self):
        """
        PS-4, ERR-5: a malformed C{jid} attribute is a C{bad-request} with
        C{<invalid-jid/>}, not an internal error with a logged traceback.
        """
        await self.h.create()
        response = await self.h.iq(
            "<iq type='set' id='s' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<subscribe node='%s' jid='a@b@c'/></pubsub></iq>"
            % (CAT_FULL, COVEN, NS_PUBSUB, NODE_MESSAGES))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual(
            [(NS_PUBSUB_ERRORS, "invalid-jid")],
            [(e.uri, e.name) for e in response.error.elements()
             if e.uri == NS_PUBSUB_ERRORS])
        self.assertNothingLogged()

    async def test_internCacheBounded(self):
        """
        Made-up JIDs in requests do not grow Twisted's JID intern cache
        without bound.
        """
        self.patch(guard, "INTERN_CACHE_LIMIT", 50)
        await self.h.create()
        for n in range(120):
            await self.h.iq(
                "<iq type='set' id='s%d' from='%s' to='%s'><pubsub xmlns='%s'>"
                "<subscribe node='%s' jid='u%d@evil.example/r'/></pubsub></iq>"
                % (n, CAT_FULL, COVEN, NS_PUBSUB, NODE_MESSAGES, n))
        cache = vars(jidmodule)["__internJIDs"]
        self.assertTrue(len(cache) <= 53, len(cache))

    async def test_unpreparableSenderAnswered(self):
        """
        ERR-1: a sender Twisted's stringprep refuses (an emoji resource is
        valid by RFC 7622) gets C{jid-malformed} back, not silence.
        """
        sender = "hag66@shakespeare.example/\U0001F600"
        response = await self.h.iq(
            "<iq type='get' id='d' from='%s' to='%s'><query xmlns='%s'/></iq>"
            % (sender, DOMAIN, NS_DISCO_INFO))
        self.assertError(response, "modify", "jid-malformed")
        self.assertEqual(sender, response["to"])

    async def test_destroyInOtherSpelling(self):
        """
        CRE-9, D-5: C{destroy} names the channel as create did, in any
        spelling of the same localpart.
        """
        self.assertResult(await self.h.create("Witches"))
        self.assertResult(await self.h.iq(
            "<iq type='set' id='x' from='%s' to='%s'><destroy xmlns='%s' "
            "channel='Witches'/></iq>" % (HAG66_FULL, DOMAIN, NS_MIX)))
        self.assertError(await self.h.join(channel="witches@" + DOMAIN),
                         "cancel", "item-not-found")

    async def test_joinChannelAttributeOtherSpelling(self):
        """
        AMB-16: a C{channel} attribute naming the addressed channel in
        another spelling is accepted.
        """
        await self.h.create()
        self.assertResult(await self.h.iq(
            "<iq type='set' id='j' from='%s' to='%s'><join xmlns='%s' "
            "channel='Coven@%s'/></iq>" % (HAG66, COVEN, NS_MIX, DOMAIN)))

    async def test_payloadChosenByName(self):
        """
        CRE-1: the C{<create/>} child is used even when another child comes
        first (it is not taken as an ad hoc create of the first child).
        """
        response = await self.h.iq(
            "<iq type='set' id='c' from='%s' to='%s'><foo xmlns='urn:x'/>"
            "<create xmlns='%s' channel='named'/></iq>"
            % (HAG66_FULL, DOMAIN, NS_MIX))
        self.assertResult(response)
        self.assertEqual("named", response.create["channel"])
        self.assertResult(await self.h.join(channel="named@" + DOMAIN))

    async def test_submissionIdEscaped(self):
        """
        MSG-6: the submission id is escaped in the originator's copy.
        """
        await self.h.create()
        await self.h.join()
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.h.take()
        await self.h.message(HAG66_FULL, "x", mid="a&lt;b&amp;&apos;c")
        sent = self.h.take()
        self.assertEqual(["a<b&'c"], [
            str(list(m.mix.elements(NS_MIX, "submission-id"))[0])
            for m in sent])

    async def test_discoOnProxyJID(self):
        """
        CHAN-1, XEP-0030, RELAY-6, RELAY-7: disco#info to a participant's
        proxy JID is relayed for a participant (XEP-0369 §3.6); to a channel
        JID with a resource, to a full proxy JID that is no client or to an
        unknown proxy JID of the channel it is C{service-unavailable},
        never an empty result with no identity; a non-participant gets
        C{forbidden} whether the proxy JID exists or not, so disco does not
        tell outsiders which proxy JIDs exist.
        """
        await self.h.create()
        proxy = (await self.h.join()).join["jid"]
        self.h.take()
        unknown = "zzzzzzzzzzzz#" + COVEN
        query = ("<iq type='get' id='d' from='%s' to='%s'><query "
                 "xmlns='%s'/></iq>")
        await self.h.receive(query % (HAG66_FULL, proxy, NS_DISCO_INFO))
        [relayed] = self.h.take()
        self.assertEqual(("get", HAG66), (relayed["type"], relayed["to"]))
        self.assertNotEqual("d", relayed["id"])
        for target in (COVEN + "/res", proxy + "/res", unknown):
            response = await self.h.iq(
                query % (HAG66_FULL, target, NS_DISCO_INFO))
            self.assertError(response, "cancel", "service-unavailable")
        for target in (proxy, proxy + "/res", unknown):
            response = await self.h.iq(
                query % (CAT_FULL, target, NS_DISCO_INFO))
            self.assertError(response, "auth", "forbidden")

    async def test_adhocOpenedByAllowedItem(self):
        """
        AMB-52: an ad hoc channel is joinable by JIDs its allowed node
        lists, and not by others.
        """
        response = await self.h.iq(
            "<iq type='set' id='a' from='%s' to='%s'><create xmlns='%s'>%s"
            "</create></iq>" % (HAG66_FULL, DOMAIN, NS_MIX, submitForm(
                ("Nodes Present", "participants"),
                ("Nodes Present", "allowed"))))
        name = response.create["channel"]
        channel = await self.h.store.getChannel(name)
        channel.allowed = (CAT,)
        await self.h.store.updateChannel(channel)
        self.assertResult(await self.h.join(CAT, name + "@" + DOMAIN))
        self.assertError(await self.h.join(HECATE, name + "@" + DOMAIN),
                         "auth", "forbidden")

    async def test_rejoinChangingVisibility(self):
        """
        JOIN-9, VIS-8: a re-join that changes the visibility preference
        updates jidmap-visible and notifies its subscribers.
        """
        await self.h.create(form=submitForm(
            ("JID Visibility", "jid-maybe-visible")))
        await self.h.join(HAG66, nodes=(NODE_MESSAGES, NODE_JIDMAP_VISIBLE))
        always = submitForm(("JID Visibility", "always"))
        proxy = (await self.h.join(HECATE, extra=always)).join["jid"]
        self.h.take()
        self.assertResult(await self.h.join(
            HECATE, extra=submitForm(("JID Visibility", "never"))))
        items = [m.event.items.item for m in self.h.take()
                 if m.name == "message" and m.event is not None and
                 m.event.items["node"] == NODE_JIDMAP_VISIBLE]
        self.assertEqual([(proxy, proxy)],
                         [(i["id"], str(i.participant.jid)) for i in items])

    async def test_mamStrictDateTime(self):
        """
        MAM-3, AMB-45: a C{start} that is not an XEP-0082 date-time is a
        C{bad-request}.
        """
        await self.h.create()
        await self.h.join()
        for value in ("20200101T000000Z", "2020-01-01T00:00:00"):
            response = await self.h.iq(
                "<iq type='set' id='q' from='%s' to='%s'><query xmlns="
                "'urn:xmpp:mam:2'>%s</query></iq>"
                % (HAG66_FULL, COVEN,
                   submitForm(("start", value), formType=NS_MAM2)))
            self.assertError(response, "modify", "bad-request")

    async def test_mamForeignArchiveId(self):
        """
        MAM-3: an RSM C{after} that is no archive id of ours is
        C{item-not-found}.
        """
        await self.h.create()
        await self.h.join()
        response = await self.h.iq(
            "<iq type='set' id='q' from='%s' to='%s'><query xmlns="
            "'urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>"
            "<after>0x00000000000001</after></set></query></iq>"
            % (HAG66_FULL, COVEN))
        self.assertError(response, "cancel", "item-not-found")

    def stopAccepting(self):
        """
        Begin the graceful stop as the service does (D-60): the address
        guard takes every stanza from now on.
        """
        (addressGuard,) = [h for h in self.h.handlers
                           if isinstance(h, guard.AddressGuard)]
        addressGuard.stopAccepting()

    async def test_refusedWhileStoppingOnlyError(self):
        """
        REV-6, D-60, ERR-7: while the service stops, a join (in either
        revision, as a MIX-PAM server relays it from the bare JID), a
        request and a message are answered with C{<error/>} as the only
        child: no copy of the request's children, which ejabberd 23.01's
        MIX-PAM cannot take with a core:1 join.
        """
        await self.h.create()
        self.h.raw()
        self.stopAccepting()
        join = ("<join xmlns='%%s'><subscribe node='%s'/><nick>x</nick>"
                "</join>" % (NODE_MESSAGES,))
        error = ("<error type='wait' code='503'><service-unavailable "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>The service "
                 "is shutting down</text></error>")
        for request in (
                "<iq type='set' id='j1' from='%s' to='%s'>%s</iq>"
                % (HECATE, COVEN, join % ("urn:xmpp:mix:core:1",)),
                "<iq type='set' id='j2' from='%s' to='%s'>%s</iq>"
                % (HECATE, COVEN, join % (NS_MIX,)),
                "<iq type='get' id='d1' from='%s' to='%s'><query xmlns='%s'/>"
                "</iq>" % (HAG66_FULL, COVEN, NS_DISCO_INFO),
                "<message type='groupchat' id='m1' from='%s' to='%s'>"
                "<body>x</body></message>" % (HAG66_FULL, COVEN)):
            await self.h.receive(request)
        self.assertEqual([
            "<iq to='%s' from='%s' id='j1' type='error'>%s</iq>"
            % (HECATE, COVEN, error),
            "<iq to='%s' from='%s' id='j2' type='error'>%s</iq>"
            % (HECATE, COVEN, error),
            "<iq to='%s' from='%s' id='d1' type='error'>%s</iq>"
            % (HAG66_FULL, COVEN, error),
            "<message to='%s' from='%s' id='m1' type='error'>%s</message>"
            % (HAG66_FULL, COVEN, error)], self.h.raw())

    async def test_jidMalformedOnlyError(self):
        """
        REV-6, ERR-1, ERR-7: the C{jid-malformed} answer to a core:1 join
        from an address Twisted cannot prepare has C{<error/>} as its only
        child.
        """
        await self.h.create()
        self.h.raw()
        sender = "hecate@shakespeare.example/\U0001F600"
        await self.h.receive(
            "<iq type='set' id='j1' from='%s' to='%s'><join "
            "xmlns='urn:xmpp:mix:core:1'><subscribe node='%s'/></join></iq>"
            % (sender, COVEN, NODE_MESSAGES))
        self.assertEqual([
            "<iq to='%s' from='%s' id='j1' type='error'><error "
            "type='modify' code='400'><jid-malformed "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            % (sender, COVEN)], self.h.raw())


class HardeningMemoryTests(MemoryStoreMixin, HardeningTestsMixin,
                           unittest.TestCase):
    pass


class HardeningPgsqlTests(PgsqlStoreMixin, HardeningTestsMixin,
                          unittest.TestCase):
    pass
