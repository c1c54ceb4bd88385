"""
Tests for IQ relay through proxy JIDs (requirements.md 1.18 RELAY-1..8,
X403-7, X403-9, DISCO-6, PREF-7, PJID-5..7, PJID-9, AMB-24, AMB-30,
AMB-35, VIS-6; XEP-0369 §6.1.18 Listings 61-64, XEP-0403 §4.5-4.6).
"""

from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID
from wokkel.generic import Request, parseXml

from mixtwisted import namespaces as ns
from mixtwisted.handlers.relay import RelayHandler
from mixtwisted.records import PresenceRecord
from mixtwisted.relay import DIAGNOSTICS, RELAYED
from mixtwisted.throttle import Throttle
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HECATE, HECATE_FULL, NS_DISCO_INFO,
    NS_DISCO_ITEMS, NS_MIX, MIXTestMixin, MemoryStoreMixin, child, parse,
    submitForm)
from tests.pgsql import PgsqlStoreMixin

HAG66_C8Y = "hag66@shakespeare.example/UUID-c8y/1573"
HAG66_OTHER = "hag66@shakespeare.example/UUID-b2k/1111"
PETER = "peter@shakespeare.example"
PETER_FULL = "peter@shakespeare.example/UUID-p3t/4242"
PETER_OTHER = "peter@shakespeare.example/UUID-q9q/0001"

NS_VCARD = "vcard-temp"

#: A relayed request (RELAY-7, XEP-0369 §3.6), used where any will do.
QUERY = "<query xmlns='%s'/>" % (NS_DISCO_INFO,)
#: A diagnostic request, not relayed by default.
PING = "<ping xmlns='urn:xmpp:ping'/>"
NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"

#: The payload of Listing 63 (XEP-0369 §6.1.18), without the stray
#: unclosed disco#info element the listing ends with.
VCARD = ("<vCard xmlns='vcard-temp'><FN>Peter Saint-Andre</FN><N>"
         "<FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N>"
         "<NICKNAME>stpeter</NICKNAME>"
         "<URL>http://www.xmpp.org/xsf/people/stpeter.shtml</URL>"
         "</vCard>")


class RelayTestsMixin(MIXTestMixin):
    """
    hecate created coven (jid-hidden, the default) and owns it; hag66 and
    peter have joined as plain participants (the listings' requester and
    target).
    """

    form = ""

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(sender=HECATE_FULL,
                                              form=self.form))
        self.hecateProxy = await self.proxyOf(HECATE)
        self.hagProxy = await self.proxyOf("hag66@shakespeare.example")
        self.peterProxy = await self.proxyOf(PETER)
        self.h.take()
        [self.handler] = [h for h in self.h.handlers
                          if isinstance(h, RelayHandler)]
        self.relay = self.handler.relay

    async def allowVCard(self, full=PETER_FULL):
        """
        Set the C{vCard} preference of C{full}'s user to C{allow} with a
        literal C{<user-preference/>} set (PREF-7).
        """
        self.assertResult(await self.h.iq(
            "<iq type='set' id='p2' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (full, COVEN, NS_MIX, submitForm(("vCard", "allow")))))
        self.h.take()

    async def request(self, sender, to, payload, iqId="r1", kind="get"):
        """
        Send an IQ request; return everything the service sent.
        """
        return await self.send(
            "<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>"
            % (kind, iqId, sender, to, payload))

    async def forwarded(self, sender, to, payload, iqId="r1"):
        """
        Send an IQ request that must be relayed; return the one stanza
        forwarded.
        """
        out = await self.request(sender, to, payload, iqId)
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        self.assertNotEqual(iqId, out[0].getAttribute("id"), out[0].toXml())
        return out[0]

    async def respond(self, forwarded, sender=None, to=None, relayId=None,
                      kind="result", payload=""):
        """
        Answer a forwarded request; by default exactly as its recipient
        would. Return everything the service sent.
        """
        return await self.send(
            "<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>"
            % (kind, relayId or forwarded["id"], sender or forwarded["to"],
               to or forwarded["from"], payload))

    async def online(self, full, name="coven"):
        """
        Bring a client online in the channel and return its full proxy JID.

        Presence is sent as literal XML; if no presence item results (the
        channel has no presence node, or the presence engine does not keep
        one), the item is stored directly, with the resource from the same
        client mapping private messages use (PJID-6), so that these tests
        pin the relay, not presence.
        """
        await self.h.receive("<presence from='%s' to='%s@%s'/>"
                             % (full, name, DOMAIN))
        self.h.take()
        store = self.h.store
        bare = JID(full).userhost()
        participant = await store.getParticipant(name, bare)
        resource = await store.clientResource(name, full)
        item = None
        if resource is not None:
            item = await store.getPresence(
                name, participant.proxyId, resource)
        if item is None:
            resource = await self.h.channels.clientResource(
                name, participant.proxyId, full)
            await store.setPresence(PresenceRecord(
                channel=name, proxyId=participant.proxyId,
                resource=resource, jid=full,
                xml="<presence xmlns='jabber:client'/>",
                updated=self.h.clock.seconds()))
        return "%s#%s@%s/%s" % (participant.proxyId, name, DOMAIN, resource)

    async def ownProxy(self, full, name="coven"):
        """
        The full proxy JID the store maps to a requesting client.
        """
        participant = await self.h.store.getParticipant(
            name, JID(full).userhost())
        resource = await self.h.store.clientResource(name, full)
        self.assertIsNot(None, resource)
        return "%s#%s@%s/%s" % (participant.proxyId, name, DOMAIN, resource)

    # vCard (XEP-0369 §6.1.18, XEP-0403 §4.6)

    async def test_vCardBlockedByDefault(self):
        """
        PREF-7, AMB-24, RELAY-7: the C{vCard} preference defaults to
        C{block}: a vCard request (vcard-temp or vCard4) to a user who has
        not allowed it is C{service-unavailable} and nothing is forwarded.
        """
        for payload in ("<vCard xmlns='%s'/>" % (NS_VCARD,),
                        "<vcard xmlns='%s'/>" % (NS_VCARD4,)):
            out = await self.request(HAG66_C8Y, self.peterProxy, payload)
            self.assertEqual(1, len(out), [o.toXml() for o in out])
            self.assertError(out[0], "cancel", "service-unavailable")
            self.assertEqual((self.peterProxy, HAG66_C8Y, "r1"), (
                out[0]["from"], out[0]["to"], out[0]["id"]))
        self.assertEqual(0, self.relay.pendingCount())

    async def test_vCardRelayListings(self):
        """
        RELAY-1, RELAY-2, RELAY-4, RELAY-5, X403-7, PJID-7, AMB-35:
        Listings 61-64 with our proxy JIDs.  Once peter allows vCard
        retrieval, hag66's request to peter's bare proxy JID goes to
        peter's real bare JID from hag66's full proxy JID (with a fresh id,
        RELAY-8), the payload unchanged; peter's server's answer comes back
        to hag66's client with the original id, from peter's proxy JID.
        """
        await self.allowVCard()
        # Listing 61
        forwarded = await self.forwarded(
            HAG66_C8Y, self.peterProxy, "<vCard xmlns='vcard-temp' />",
            iqId="lx09df27")
        # Listing 62
        requester = await self.ownProxy(HAG66_C8Y)
        self.assertTrue(requester.startswith(self.hagProxy + "/"))
        self.assertEqual(
            ("get", requester, PETER),
            (forwarded["type"], forwarded["from"], forwarded["to"]))
        self.assertGreaterEqual(len(forwarded["id"]), 16)
        self.assertEqual(["<vCard xmlns='vcard-temp'/>"],
                         [c.toXml() for c in forwarded.elements()])
        # Listing 63
        out = await self.respond(forwarded, sender=PETER, to=requester,
                                 payload=VCARD)
        # Listing 64
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        response = out[0]
        self.assertEqual(
            ("result", "lx09df27", self.peterProxy, HAG66_C8Y),
            (response["type"], response["id"], response["from"],
             response["to"]))
        vcard = child(response, NS_VCARD, "vCard")
        self.assertEqual(parseXml(VCARD).toXml(), vcard.toXml())
        self.assertEqual("stpeter", str(child(vcard, NS_VCARD, "NICKNAME")))
        self.assertEqual(0, self.relay.pendingCount())

    async def test_vCard4Relay(self):
        """
        RELAY-2, PREF-7: vCard4 over XMPP (XEP-0292) is relayed the same
        way once allowed.
        """
        await self.allowVCard()
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                         "<vcard xmlns='%s'/>" % (NS_VCARD4,))
        self.assertEqual(PETER, forwarded["to"])
        self.assertIsNot(None, child(forwarded, NS_VCARD4, "vcard"))
        out = await self.respond(
            forwarded,
            payload="<vcard xmlns='%s'><fn><text>"
                    "Peter</text></fn></vcard>" % (NS_VCARD4,))
        self.assertEqual(["r1"], [o["id"] for o in out])
        self.assertIsNot(None, child(out[0], NS_VCARD4, "vcard"))

    async def test_vCardBlockedAgain(self):
        """
        PREF-7: setting C{vCard} back to C{block} stops the relay.
        """
        await self.allowVCard()
        self.assertResult(await self.h.iq(
            "<iq type='set' id='p3' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (PETER_FULL, COVEN, NS_MIX, submitForm(("vCard", "block")))))
        self.h.take()
        [out] = await self.request(HAG66_C8Y, self.peterProxy,
                                   "<vCard xmlns='vcard-temp'/>")
        self.assertError(out, "cancel", "service-unavailable")

    async def test_errorRelayed(self):
        """
        RELAY-5: an error response is routed back like a result, with its
        error, the original id and the proxy JID as C{from}.
        """
        await self.allowVCard()
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                         "<vCard xmlns='vcard-temp'/>")
        out = await self.respond(
            forwarded, kind="error",
            payload="<vCard xmlns='vcard-temp'/><error type='cancel'>"
            "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error>")
        self.assertEqual(1, len(out))
        self.assertError(out[0], "cancel", "item-not-found")
        self.assertEqual(("r1", self.peterProxy, HAG66_C8Y), (
            out[0]["id"], out[0]["from"], out[0]["to"]))

    async def test_discoOfService(self):
        """
        DISCO-6, RELAY-3: both vCard protocols are service features.
        """
        response = await self.h.iq(
            "<iq type='get' id='d' from='%s' to='%s'><query xmlns='%s'/>"
            "</iq>" % (HAG66_C8Y, DOMAIN, NS_DISCO_INFO))
        features = [f["var"] for f in response.query.elements(
            NS_DISCO_INFO, "feature")]
        self.assertIn(NS_VCARD, features)
        self.assertIn(NS_VCARD4, features)

    # Other protocols (RELAY-6, RELAY-7)

    async def test_allowlist(self):
        """
        RELAY-6, RELAY-7, XEP-0369 §3.6: disco#info and disco#items
        requests are relayed without any preference.
        """
        for n, payload in enumerate((
                "<query xmlns='%s'/>" % (NS_DISCO_INFO,),
                "<query xmlns='%s' node='x'/>" % (NS_DISCO_ITEMS,))):
            forwarded = await self.forwarded(
                HAG66_C8Y, self.peterProxy, payload, iqId="a%d" % (n,))
            self.assertEqual(PETER, forwarded["to"])
            self.assertEqual([payload],
                             [c.toXml() for c in forwarded.elements()])
        self.assertEqual(2, self.relay.pendingCount())

    def test_allowlistIsRelay7(self):
        """
        RELAY-7: what is relayed by default is exactly RELAY-7's list:
        vcard-temp, vCard4, disco#info and disco#items.
        """
        self.assertEqual(frozenset([
            (ns.NS_VCARD_TEMP, "vCard"), (ns.NS_VCARD4, "vcard"),
            (ns.NS_DISCO_INFO, "query"), (ns.NS_DISCO_ITEMS, "query")]),
            RELAYED)
        self.assertEqual(RELAYED, self.relay.relayed)

    async def test_diagnosticsNotRelayed(self):
        """
        RELAY-7, VIS-6: ping, version and time would tell an anonymous
        requester whether a hidden user is online, its client and OS and
        its timezone; they are not relayed by default
        (C{service-unavailable}, nothing forwarded).
        """
        for payload in (PING, "<query xmlns='jabber:iq:version'/>",
                        "<time xmlns='urn:xmpp:time'/>"):
            out = await self.request(HAG66_C8Y, self.peterProxy, payload)
            self.assertEqual(1, len(out), [o.toXml() for o in out])
            self.assertError(out[0], "cancel", "service-unavailable")
            self.assertEqual(self.peterProxy, out[0]["from"])
        self.assertEqual(0, self.relay.pendingCount())

    async def test_diagnosticsOptIn(self):
        """
        RELAY-7: a deployment may opt in to relaying the diagnostic
        queries (L{mixtwisted.relay.DIAGNOSTICS}).
        """
        self.relay.relayed = RELAYED | DIAGNOSTICS
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy, PING)
        self.assertEqual(PETER, forwarded["to"])

    async def test_notRelayed(self):
        """
        RELAY-7, ERR-6: a payload outside the allowlist, or an IQ set (none
        of the relayed protocols sets anything at another user), is
        C{service-unavailable}; nothing is forwarded.
        """
        for kind, payload in (
                ("get", "<query xmlns='jabber:iq:roster'/>"),
                ("get", "<query xmlns='jabber:iq:last'/>"),
                ("set", "<query xmlns='%s'/>" % (NS_DISCO_INFO,)),
                ("set", "<vCard xmlns='vcard-temp'/>")):
            out = await self.request(HAG66_C8Y, self.peterProxy, payload,
                                     kind=kind)
            self.assertEqual(1, len(out), [o.toXml() for o in out])
            self.assertError(out[0], "cancel", "service-unavailable")
        self.assertEqual(0, self.relay.pendingCount())

    async def test_malformedRequest(self):
        """
        RFC 6120 §8.2.3: a request to a proxy JID without exactly one
        payload is C{bad-request}.
        """
        [out] = await self.request(HAG66_C8Y, self.peterProxy, "")
        self.assertError(out, "modify", "bad-request")
        [out] = await self.request(HAG66_C8Y, self.peterProxy,
                                   PING + PING)
        self.assertError(out, "modify", "bad-request")

    async def test_requesterMustParticipate(self):
        """
        RELAY-7: a requester who is not a participant is C{forbidden},
        for a known and an unknown proxy JID alike; nothing is forwarded.
        """
        for target in (self.peterProxy, "zzzzzzzzzzzz#" + COVEN,
                       self.peterProxy + "/nosuchclient"):
            [out] = await self.request(CAT_FULL, target, QUERY)
            self.assertError(out, "auth", "forbidden")
        self.assertEqual(0, self.relay.pendingCount())

    async def test_noExistenceOracle(self):
        """
        PJID-5, RELAY-7, VIS-6: whatever a participant or an outsider sends
        to a proxy JID of an existing channel (a payload never relayed, an
        IQ set, a MIX request), the answer is the same for a known and an
        unknown proxy JID: C{service-unavailable}, or C{item-not-found}
        for a MIX channel request (a proxy JID is no channel).
        """
        unknown = "zzzzzzzzzzzz#" + COVEN
        cases = [
            ("get", "<query xmlns='jabber:iq:roster'/>",
             "service-unavailable"),
            ("set", "<foo xmlns='urn:x'/>", "service-unavailable"),
            ("set", "<query xmlns='%s'/>" % (NS_DISCO_INFO,),
             "service-unavailable"),
            ("set", PING, "service-unavailable"),
            ("set", "<join xmlns='%s'/>" % (NS_MIX,), "item-not-found"),
            ("set", "<leave xmlns='%s'/>" % (NS_MIX,), "item-not-found"),
        ]
        for sender in (CAT_FULL, HAG66_C8Y):
            for kind, payload, condition in cases:
                answers = []
                for target in (self.peterProxy, unknown):
                    [out] = await self.request(sender, target, payload,
                                               kind=kind)
                    self.assertError(out, "cancel", condition)
                    answers.append(out.error.toXml())
                self.assertEqual(answers[0], answers[1],
                                 (sender, kind, payload))
        self.assertEqual(0, self.relay.pendingCount())

    async def test_unknownProxy(self):
        """
        PJID-5, RELAY-7: an unknown proxy JID of an existing channel
        answers a relayed protocol as a known one that refuses does
        (C{service-unavailable}, RFC 6121 §8.5.1), so a participant cannot
        tell it from a user blocking vCards; other payloads answer as to a
        known proxy JID (C{service-unavailable}, C{item-not-found} for MIX
        channel requests, PJID-5).
        """
        unknown = "zzzzzzzzzzzz#" + COVEN
        [blocked] = await self.request(HAG66_C8Y, self.peterProxy,
                                       "<vCard xmlns='vcard-temp'/>")
        [missing] = await self.request(HAG66_C8Y, unknown,
                                       "<vCard xmlns='vcard-temp'/>")
        self.assertEqual(blocked.error.toXml(), missing.error.toXml())
        [missing] = await self.request(
            HAG66_C8Y, unknown, "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertError(missing, "cancel", "service-unavailable")
        [other] = await self.request(HAG66_C8Y, unknown,
                                     "<query xmlns='jabber:iq:roster'/>")
        self.assertError(other, "cancel", "service-unavailable")
        [join] = await self.request(
            HAG66_C8Y, unknown, "<join xmlns='%s'/>" % (NS_MIX,), kind="set")
        self.assertError(join, "cancel", "item-not-found")

    async def test_proxyOfNoChannel(self):
        """
        PJID-5, AMB-30: C{<id>#<channel>} where no such channel exists is
        left to the channel handlers (C{item-not-found}).
        """
        [out] = await self.request(HAG66_C8Y, "abc#nowhere@" + DOMAIN,
                                   "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertError(out, "cancel", "item-not-found")

    async def test_channelNameWithHash(self):
        """
        AMB-30, PJID-5: a channel may be called C{x#y}; requests to it are
        the channel's, not relayed (disco answers with the channel's
        identity, join works), and a full JID of it stays
        C{service-unavailable}.
        """
        self.assertResult(await self.h.create(name="x#nowhere",
                                              sender=HECATE_FULL))
        channel = "x#nowhere@" + DOMAIN
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'><query xmlns='%s'/>"
            "</iq>" % (HAG66_C8Y, channel, NS_DISCO_INFO))
        self.assertResult(response)
        identity = child(response.query, NS_DISCO_INFO, "identity")
        self.assertEqual(("conference", "mix"),
                         (identity["category"], identity["type"]))
        self.assertResult(await self.h.join(CAT, channel))
        self.h.take()
        response = await self.h.iq(
            "<iq type='get' id='d2' from='%s' to='%s/res'><query "
            "xmlns='%s'/></iq>" % (HAG66_C8Y, channel, NS_DISCO_INFO))
        self.assertError(response, "cancel", "service-unavailable")
        self.assertEqual(0, self.relay.pendingCount())

    async def test_selfRelay(self):
        """
        RELAY-6: a participant may address its own proxy JID (one of its
        other clients, through the channel).
        """
        forwarded = await self.forwarded(HAG66_C8Y, self.hagProxy,
                                         QUERY)
        self.assertEqual("hag66@shakespeare.example", forwarded["to"])
        self.assertEqual(await self.ownProxy(HAG66_C8Y), forwarded["from"])

    # Full proxy JIDs (RELAY-6, AMB-35, PJID-6)

    async def test_fullProxyRelay(self):
        """
        RELAY-6, X403-7, AMB-35, PJID-6: a request to a full proxy JID in
        the presence node goes to the real full JID behind it; the answer,
        from that full JID, comes back from the full proxy JID.
        """
        peerClient = await self.online(PETER_FULL)
        forwarded = await self.forwarded(
            HAG66_C8Y, peerClient, "<query xmlns='%s'/>" % (NS_DISCO_INFO,))
        self.assertEqual((PETER_FULL, await self.ownProxy(HAG66_C8Y)),
                         (forwarded["to"], forwarded["from"]))
        # RELAY-8: the answer must come from the full JID asked.
        for sender in (PETER, PETER_OTHER):
            self.assertEqual([], await self.respond(forwarded, sender=sender))
        out = await self.respond(
            forwarded,
            payload="<query xmlns='%s'><feature "
                    "var='urn:xmpp:ping'/></query>" % (NS_DISCO_INFO,))
        self.assertEqual(1, len(out))
        self.assertEqual(("result", "r1", peerClient, HAG66_C8Y), (
            out[0]["type"], out[0]["id"], out[0]["from"], out[0]["to"]))

    async def test_fullProxyOffline(self):
        """
        RELAY-6: once the client's item leaves the presence node, its full
        proxy JID is C{service-unavailable}, though the mapping remains
        (PJID-6).
        """
        peerClient = await self.online(PETER_FULL)
        proxyId, resource = peerClient.split("#")[0], peerClient.split("/")[1]
        await self.h.store.removePresence("coven", proxyId, resource)
        [out] = await self.request(HAG66_C8Y, peerClient,
                                   QUERY)
        self.assertError(out, "cancel", "service-unavailable")

    async def test_fullProxyVCard(self):
        """
        PREF-7: the preference holds for full proxy JIDs too.
        """
        peerClient = await self.online(PETER_FULL)
        [out] = await self.request(HAG66_C8Y, peerClient,
                                   "<vCard xmlns='vcard-temp'/>")
        self.assertError(out, "cancel", "service-unavailable")

    async def test_fullProxyNotOnline(self):
        """
        RELAY-6, PJID-6: a full proxy JID mapping to no client, or to a
        client that is not in the presence node (here one known only from
        a private message), is C{service-unavailable}.
        """
        await self.send(
            "<message type='chat' id='pm' from='%s' to='%s'><body>hi"
            "</body></message>" % (PETER_OTHER, self.hagProxy))
        mapped = await self.ownProxy(PETER_OTHER)
        for target in (self.peterProxy + "/nosuchclient", mapped):
            [out] = await self.request(HAG66_C8Y, target,
                                       QUERY)
            self.assertError(out, "cancel", "service-unavailable")
        self.assertEqual(0, self.relay.pendingCount())

    async def test_requesterResource(self):
        """
        PJID-6, PJID-9, PM-6: the requester's full proxy JID is stable per
        real full JID, shared with private messages, and another client of
        the same user gets another one.
        """
        [pm] = await self.send(
            "<message type='chat' id='pm' from='%s' to='%s'>"
            "<body>hi</body></message>"
            % (HAG66_C8Y, self.peterProxy))
        first = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                     QUERY, iqId="a")
        second = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                      QUERY, iqId="b")
        other = await self.forwarded(HAG66_OTHER, self.peterProxy,
                                     QUERY, iqId="c")
        self.assertEqual(pm["from"], first["from"])
        self.assertEqual(first["from"], second["from"])
        self.assertNotEqual(first["from"], other["from"])
        self.assertNotEqual(first["id"], second["id"])

    # Timeouts (RELAY-8, X403-9)

    async def test_timeout(self):
        """
        RELAY-8, X403-9: without an answer within the timeout the requester
        gets C{remote-server-timeout} (wait), with its id, from the proxy
        JID it addressed; the relay is forgotten and a late answer is
        dropped.
        """
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                         QUERY)
        await self.h.advance(self.relay.timeout - 1)
        self.assertEqual([], self.h.take())
        await self.h.advance(1)
        await self.assertTimedOut(forwarded)

    async def test_stopAnswersWaitingRelays(self):
        """
        RELAY-8, D-60: at a graceful stop (the stop hooks run before the
        connection closes) a relay still waiting is answered with
        C{remote-server-timeout} at once, never left unanswered; its timer
        is gone and a late answer is dropped.
        """
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                         QUERY)
        for hook in self.h.channels.stopHooks:
            hook()
        await self.assertTimedOut(forwarded)

    async def assertTimedOut(self, forwarded):
        """
        The requester (hag66's client) was just sent C{remote-server-timeout}
        (wait) for its request r1 to peter's proxy JID, and nothing else; the
        relay is forgotten: a late answer to C{forwarded} is dropped and no
        timer is left to send anything more.
        """
        out = self.h.take()
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        self.assertError(out[0], "wait", "remote-server-timeout")
        self.assertEqual(("r1", self.peterProxy, HAG66_C8Y), (
            out[0]["id"], out[0]["from"], out[0]["to"]))
        self.assertEqual(0, self.relay.pendingCount())
        self.assertEqual([], await self.respond(forwarded))
        await self.h.advance(self.relay.timeout * 2)
        self.assertEqual([], self.h.take())

    async def test_answeredRelayDoesNotTimeOut(self):
        """
        RELAY-8: once answered, no timeout error follows.
        """
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                         QUERY)
        self.assertEqual(1, len(await self.respond(forwarded)))
        await self.h.advance(self.relay.timeout * 2)
        self.assertEqual([], self.h.take())
        self.assertEqual([], await self.respond(forwarded))

    # Spoofed and unexpected responses (RELAY-8)

    async def test_spoofedResponsesDropped(self):
        """
        RELAY-8: only a response with the relay's id, from exactly the JID
        the request went to, to exactly the requester's full proxy JID is
        routed.  A wrong sender (another user, a full JID of the target
        when the request went to its bare JID, the service's own domain), a
        wrong recipient (another resource, the bare proxy JID, another
        participant's proxy JID), an unknown id or the requester's own id
        produce no output at all and leave the relay waiting; the genuine
        answer still gets through afterwards.
        """
        forwarded = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                         QUERY)
        requester = forwarded["from"]
        spoofs = [
            dict(sender=CAT),
            dict(sender=CAT_FULL),
            dict(sender=PETER_FULL),
            dict(sender=HECATE),
            dict(sender=DOMAIN),
            dict(sender="hag66@shakespeare.example"),
            dict(to=requester + "x"),
            dict(to=self.hagProxy),
            dict(to=self.peterProxy),
            dict(to=self.hecateProxy + "/" + requester.split("/")[1]),
            dict(to=HAG66_C8Y),
            dict(relayId="r1"),
            dict(relayId=forwarded["id"] + "x"),
            dict(relayId="H_1"),
        ]
        for kind in ("result", "error"):
            for spoof in spoofs:
                out = await self.respond(forwarded, kind=kind, **spoof)
                self.assertEqual([], out, (spoof, [o.toXml() for o in out]))
        self.assertEqual(1, self.relay.pendingCount())
        out = await self.respond(forwarded)
        self.assertEqual([("r1", HAG66_C8Y)],
                         [(o["id"], o["to"]) for o in out])

    async def test_unsolicitedResponsesDropped(self):
        """
        RELAY-8, ERR-6: results and errors to proxy JIDs that match no
        relay are neither routed nor answered.
        """
        for to in (self.peterProxy, self.peterProxy + "/abc",
                   self.hagProxy + "/zzz"):
            for kind in ("result", "error"):
                self.assertEqual([], await self.send(
                    "<iq type='%s' id='x' from='%s' to='%s'>"
                    "<vCard xmlns='vcard-temp'/></iq>"
                    % (kind, PETER, to)))

    async def test_streamManagerRequestsUntouched(self):
        """
        The relay consumes only its own responses: a response to a request
        the service itself sent through wokkel's StreamManager still
        reaches it.
        """
        request = Request(recipient=JID(PETER_FULL),
                          sender=JID(self.peterProxy + "/probe"))
        request.stanzaID = "own1"
        d = self.h.manager.request(request)
        self.h.take()
        await self.send("<iq type='result' id='own1' from='%s' to='%s/probe'/>"
                        % (PETER_FULL, self.peterProxy))
        self.assertEqual("own1", (await d)["id"])

    # Limits

    async def test_throttled(self):
        """
        Issue 4 limits, RELAY-8: a requester flooding relayed IQs gets
        C{resource-constraint} (wait) past its burst; another client is
        not affected, and the flooder recovers with time.
        """
        self.relay.maxPending = 1000
        self.relay.maxPendingPerTarget = 1000
        burst = int(self.relay.throttle.burst)
        for n in range(burst):
            await self.forwarded(HAG66_C8Y, self.peterProxy,
                                 QUERY, iqId="t%d" % n)
        [out] = await self.request(HAG66_C8Y, self.peterProxy,
                                   QUERY)
        self.assertError(out, "wait", "resource-constraint")
        await self.forwarded(HAG66_OTHER, self.peterProxy,
                             QUERY)
        await self.h.advance(1)
        self.h.take()
        await self.forwarded(HAG66_C8Y, self.peterProxy,
                             QUERY)

    async def rotate(self, count, user="hag66@shakespeare.example",
                     target=None):
        """
        Send C{count} relayed requests from as many resources of C{user};
        return the number forwarded and the conditions of the refusals.
        """
        forwarded, refused = 0, set()
        for n in range(count):
            [out] = await self.request("%s/rot%d" % (user, n),
                                       target or self.peterProxy, QUERY,
                                       iqId="x%d" % (n,))
            if out["type"] == "error":
                self.assertEqual("wait", out.error["type"])
                refused.add(out.error.firstChildElement().name)
            else:
                forwarded += 1
        return forwarded, refused

    async def test_rotatingResourcesThrottled(self):
        """
        Issue 4 limits, RELAY-8: the rate is limited per requester bare JID
        too, so rotating resources gains nothing: of 500 requests from 500
        resources of one user at once, only the bare JID's burst is
        forwarded; the others are C{resource-constraint} (wait).
        """
        self.relay.maxPending = 1000
        self.relay.maxPendingPerTarget = 1000
        forwarded, refused = await self.rotate(500)
        self.assertEqual(int(self.relay.userThrottle.burst), forwarded)
        self.assertEqual({"resource-constraint"}, refused)

    async def test_domainThrottled(self):
        """
        Issue 4 limits: the rate is limited per requester domain too (here
        lowered to a burst of 3): rotating accounts of one server gains
        little, and requesters of other servers are not affected.
        """
        self.relay.domainThrottle = Throttle(self.h.clock, 1, 3)
        other = "witch@elsewhere.example"
        self.assertResult(await self.h.join(other))
        self.h.take()
        for n, sender in enumerate((HAG66_C8Y, HAG66_OTHER, HECATE_FULL)):
            await self.forwarded(sender, self.peterProxy, QUERY,
                                 iqId="d%d" % n)
        [out] = await self.request(PETER_FULL, self.hagProxy, QUERY)
        self.assertError(out, "wait", "resource-constraint")
        await self.forwarded(other + "/r", self.peterProxy, QUERY)

    async def test_refusedReservesNothing(self):
        """
        PJID-9, issue 4 limits: a requester's full proxy JID is a permanent
        store entry, so it is allocated only once every check passed: a
        client refused for its rate, for relays under way, for its payload
        or for an offline target reserves nothing; an accepted one does.
        """
        store = self.h.store
        self.relay.maxPendingPerTarget = 1
        await self.forwarded(HAG66_C8Y, self.peterProxy, QUERY)
        refusals = [
            (self.peterProxy, QUERY, "resource-constraint"),
            (self.peterProxy, PING, "service-unavailable"),
            (self.peterProxy + "/nosuchclient", QUERY,
             "service-unavailable"),
            ("zzzzzzzzzzzz#" + COVEN, QUERY, "service-unavailable"),
        ]
        for n, (target, payload, condition) in enumerate(refusals):
            client = "hag66@shakespeare.example/refused%d" % (n,)
            [out] = await self.request(client, target, payload)
            self.assertEqual(condition,
                             out.error.firstChildElement().name)
            self.assertIdentical(
                None, await store.clientResource("coven", client))
        self.relay.throttle = Throttle(self.h.clock, 0, 0)
        [out] = await self.request(HAG66_OTHER, self.hecateProxy, QUERY)
        self.assertError(out, "wait", "resource-constraint")
        self.assertIdentical(
            None, await store.clientResource("coven", HAG66_OTHER))

    async def test_pendingCapped(self):
        """
        Issue 4 limits, RELAY-8: a requester (bare JID, all its clients
        together) may have only C{maxPending} relays under way; past it,
        C{resource-constraint} (wait) until one is answered, whichever
        client asks; other requesters are not affected.
        """
        self.relay.maxPending = 2
        first = await self.forwarded(HAG66_C8Y, self.peterProxy,
                                     QUERY, iqId="a")
        await self.forwarded(HAG66_OTHER, self.peterProxy,
                             QUERY, iqId="b")
        for sender in (HAG66_C8Y, HAG66_OTHER,
                       "hag66@shakespeare.example/new"):
            [out] = await self.request(sender, self.peterProxy, QUERY,
                                       iqId="c")
            self.assertError(out, "wait", "resource-constraint")
        await self.forwarded(HECATE_FULL, self.peterProxy, QUERY, iqId="d")
        self.assertEqual(1, len(await self.respond(first)))
        await self.forwarded(HAG66_C8Y, self.peterProxy,
                             QUERY, iqId="e")

    async def test_rotatingResourcesPendingCapped(self):
        """
        Issue 4 limits, RELAY-8: with the rate allowing it, rotating
        resources still leaves at most C{maxPending} relays under way per
        user within a timeout window.
        """
        self.relay.maxPendingPerTarget = 1000
        forwarded, refused = await self.rotate(60)
        self.assertEqual(self.relay.maxPending, forwarded)
        self.assertEqual({"resource-constraint"}, refused)
        self.assertEqual(self.relay.maxPending, self.relay.pendingCount())

    async def test_pendingPerTargetCapped(self):
        """
        Issue 4 limits, RELAY-8: at most C{maxPendingPerTarget} relays are
        under way to one target, from all requesters together; other
        targets are not affected; an answer frees a place.
        """
        self.relay.maxPendingPerTarget = 2
        first = await self.forwarded(HAG66_C8Y, self.peterProxy, QUERY,
                                     iqId="a")
        await self.forwarded(HECATE_FULL, self.peterProxy, QUERY, iqId="b")
        [out] = await self.request(HAG66_OTHER, self.peterProxy, QUERY,
                                   iqId="c")
        self.assertError(out, "wait", "resource-constraint")
        await self.forwarded(HAG66_OTHER, self.hecateProxy, QUERY, iqId="d")
        self.assertEqual(1, len(await self.respond(first)))
        await self.forwarded(HAG66_OTHER, self.peterProxy, QUERY, iqId="e")

    async def test_pendingTotalCapped(self):
        """
        Issue 4 limits, RELAY-8: at most C{maxPendingTotal} relays are under
        way in all; a timeout frees a place.
        """
        self.relay.maxPendingTotal = 2
        await self.forwarded(HAG66_C8Y, self.peterProxy, QUERY, iqId="a")
        await self.forwarded(HECATE_FULL, self.hagProxy, QUERY, iqId="b")
        [out] = await self.request(PETER_FULL, self.hecateProxy, QUERY)
        self.assertError(out, "wait", "resource-constraint")
        await self.h.advance(self.relay.timeout)
        self.h.take()
        self.assertEqual(0, self.relay.pendingCount())
        await self.forwarded(PETER_FULL, self.hecateProxy, QUERY)

    # Real JIDs (VIS-6)

    async def test_noRealJIDsCross(self):
        """
        VIS-6, RELAY-4, RELAY-5: in a jid-hidden channel the target side
        sees nothing of hag66's real JID and hag66 sees nothing of peter's,
        for the bare and the full proxy JID, results and timeouts.
        """
        await self.allowVCard()
        peerClient = await self.online(PETER_FULL)
        for n, target in enumerate((self.peterProxy, peerClient)):
            await self.h.receive("<iq type='get' id='v%d' from='%s' to='%s'>"
                                 "<vCard xmlns='vcard-temp'/></iq>"
                                 % (n, HAG66_C8Y, target))
            sent = self.h.raw()
            self.assertEqual(1, len(sent))
            self.assertNotIn("hag66", sent[0])
            forwarded = parse(sent[0])
            await self.h.receive(
                "<iq type='result' id='%s' from='%s' to='%s'>%s</iq>" % (
                    forwarded["id"], forwarded["to"], forwarded["from"],
                    VCARD))
            back = self.h.raw()
            self.assertEqual(1, len(back))
            self.assertNotIn("peter@", back[0])
            self.assertNotIn("UUID-p3t", back[0])
        await self.h.receive("<iq type='get' id='t' from='%s' to='%s'>"
                             "%s</iq>" % (HAG66_C8Y, self.peterProxy, QUERY))
        self.assertNotIn("hag66", self.h.raw()[0])
        await self.h.advance(self.relay.timeout)
        timeout = self.h.raw()
        self.assertEqual(1, len(timeout))
        self.assertNotIn("peter@", timeout[0])

    async def test_responseNamingTargetWithheld(self):
        """
        VIS-6: a response whose payload names the target's real JID (a
        server listing the user's PEP nodes under its bare JID) is not
        passed to a requester from whom the channel hides that JID: the
        requester gets C{service-unavailable} instead.
        """
        forwarded = await self.forwarded(
            HAG66_C8Y, self.peterProxy,
            "<query xmlns='%s'/>" % (NS_DISCO_ITEMS,))
        out = await self.respond(forwarded, payload=(
            "<query xmlns='%s'><item jid='%s' node='urn:xmpp:avatar:data'/>"
            "</query>" % (NS_DISCO_ITEMS, PETER)))
        self.assertEqual(1, len(out))
        self.assertError(out[0], "cancel", "service-unavailable")
        self.assertEqual(("r1", self.peterProxy, HAG66_C8Y),
                         (out[0]["id"], out[0]["from"], out[0]["to"]))
        self.assertNotIn("peter@", out[0].toXml())

    #: Responses naming peter in a form that is no literal bare JID.
    disguised = [
        "<query xmlns='%s'><item jid='shakespeare.example' node='peter'/>"
        "</query>" % (NS_DISCO_ITEMS,),
        "<query xmlns='%s'><item jid='Shakespeare.Example.'/></query>"
        % (NS_DISCO_ITEMS,),
        "<query xmlns='%s'><item jid='pubsub.example/x'/>"
        "<item jid='someone@SHAKESPEARE.example/r'/></query>"
        % (NS_DISCO_ITEMS,),
        "<query xmlns='%s'><x xmlns='jabber:x:data' type='result'><field "
        "var='addr'><value>xmpp:peter%%40shakespeare.example</value>"
        "</field></x></query>" % (NS_DISCO_INFO,),
        "<query xmlns='%s'><feature var='peter\\40shakespeare.example'/>"
        "</query>" % (NS_DISCO_INFO,),
        "<query xmlns='%s'><feature var='peter&amp;#64;Shakespeare.example'"
        "/></query>" % (NS_DISCO_INFO,),
        "<query xmlns='%s'><feature var='peter&#64;shakespeare.example'/>"
        "</query>" % (NS_DISCO_INFO,),
    ]

    #: A response naming neither peter nor his server.
    harmless = ("<query xmlns='%s'><item jid='pubsub.example' "
                "node='shakespeare'/></query>" % (NS_DISCO_ITEMS,))

    async def relayResponse(self, payload, requester=HAG66_C8Y):
        """
        Relay a disco request from C{requester} to peter's bare proxy JID,
        answer it with C{payload}; return the one stanza sent back.
        """
        forwarded = await self.forwarded(requester, self.peterProxy, QUERY)
        out = await self.respond(forwarded, payload=payload)
        self.assertEqual(1, len(out), [o.toXml() for o in out])
        return out[0]

    async def test_responseNamingTargetDisguisedWithheld(self):
        """
        VIS-6 (best effort): a response naming the target's server in a
        C{jid} attribute (the server itself, another of its users, with a
        trailing dot or in another case), or the target's bare JID with
        the C{@} escaped (C{%40}, XEP-0106 C{\\40}, C{&#64;}), is withheld
        from a requester from whom the channel hides it
        (C{service-unavailable}); a response naming neither gets through.
        """
        for payload in self.disguised:
            out = await self.relayResponse(payload)
            self.assertError(out, "cancel", "service-unavailable")
            self.assertEqual((self.peterProxy, HAG66_C8Y),
                             (out["from"], out["to"]))
            self.assertNotIn("shakespeare.example", out.toXml().replace(
                "mix.shakespeare.example", "").replace(HAG66_C8Y, ""))
        self.assertResult(await self.relayResponse(self.harmless))

    async def test_responseNamingTargetToAdmin(self):
        """
        VIS-6: administrators see real JIDs, so the owner gets such a
        response unchanged.
        """
        forwarded = await self.forwarded(
            HECATE_FULL, self.peterProxy,
            "<query xmlns='%s'/>" % (NS_DISCO_ITEMS,))
        out = await self.respond(forwarded, payload=(
            "<query xmlns='%s'><item jid='%s' node='urn:xmpp:avatar:data'/>"
            "</query>" % (NS_DISCO_ITEMS, PETER)))
        self.assertEqual(1, len(out))
        self.assertResult(out[0])
        item = child(out[0].query, NS_DISCO_ITEMS, "item")
        self.assertEqual(PETER, item["jid"])


class VisibleRelayTestsMixin(RelayTestsMixin):
    """
    The same in a jid-visible channel, where participants see real JIDs.
    """

    form = submitForm(("JID Visibility", "jid-visible"))

    async def test_responseNamingTargetWithheld(self):
        """
        VIS-6: in a jid-visible channel a response naming the target's real
        JID is passed on unchanged.
        """
        forwarded = await self.forwarded(
            HAG66_C8Y, self.peterProxy,
            "<query xmlns='%s'/>" % (NS_DISCO_ITEMS,))
        out = await self.respond(forwarded, payload=(
            "<query xmlns='%s'><item jid='%s'/></query>"
            % (NS_DISCO_ITEMS, PETER)))
        self.assertEqual(1, len(out))
        self.assertResult(out[0])

    async def test_responseNamingTargetDisguisedWithheld(self):
        """
        VIS-6: in a jid-visible channel the disguised forms are passed on
        unchanged too.
        """
        for payload in self.disguised + [self.harmless]:
            self.assertResult(await self.relayResponse(payload))


class RelayMemoryTests(MemoryStoreMixin, RelayTestsMixin, unittest.TestCase):
    pass


class RelayPgsqlTests(PgsqlStoreMixin, RelayTestsMixin, unittest.TestCase):
    pass


class VisibleRelayMemoryTests(MemoryStoreMixin, VisibleRelayTestsMixin,
                              unittest.TestCase):
    pass


class VisibleRelayPgsqlTests(PgsqlStoreMixin, VisibleRelayTestsMixin,
                             unittest.TestCase):
    pass
