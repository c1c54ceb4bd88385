"""
End to end through Prosody 0.12 (Debian's C{prosody}): users on
C{prosody.localhost}, mixtwisted attached as the component
C{mix.prosody.localhost}, slixmpp clients.

Prosody has no MIX support for its users (no MIX-PAM): joins and every
other IQ go from the client straight to the channel; PubSub notifications
and presence, which the channel addresses to the user's bare JID, are
delivered by RFC 6121's rules; groupchat messages to a bare JID are bounced
(RFC 6121 section 8.5.2.1.1), so the service sends them to the full JIDs of
the clients online in the channel (C{--delivery auto}, doc/interop.md).

L{ProsodyMixCoreTests} drive the MIX-CORE revision (C{urn:xmpp:mix:core:1})
with slixmpp's own MIX plugins (XEP-0369 C{xep_0369}, XEP-0403
C{xep_0403}), straight from the clients' full JIDs.
"""

import re

from twisted.internet import defer

from tests import pgsql
from tests.e2e.base import (
    NS_CLIENT, NS_MIX_ACCOUNT, NS_MIX_CORE, NS_MIX_PAM2, EndToEndCase,
    Scenarios, destroyRequest, features, groupchat, infoEvent, infoPublish,
    mixChild, participantEvent, presenceOf, proxyJID, scenario, sentBy)
from tests.e2e.servers import Prosody
from tests.e2e.service import stanzaPattern
from tests.helpers import (
    NODE_INFO, NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE, NS_FORWARD,
    NS_MAM2, NS_MIX, NS_SID, child, errorCondition)

#: The channel's JID Visibility made visible, as its owner publishes it.
JID_VISIBLE = ("JID Visibility", "jid-visible")


class ProsodyTests(Scenarios, EndToEndCase):
    """
    The scenarios through Prosody, on the memory store.
    """

    serverClass = Prosody

    def checkUserServer(self, response):
        """
        Prosody advertises no MIX support for its accounts (PSRV-5).
        """
        self.assertEqual(set(), {NS_MIX_PAM2, NS_MIX_ACCOUNT} &
                         features(response))

    @scenario
    def test_bareJIDBounced(self):
        """
        Why Prosody's users need delivery to full JIDs (doc/interop.md):
        with C{--delivery bare}, Prosody answers the channel's groupchat
        message to hecate's bare JID with C{<message type='error'
        from='hecate@prosody.localhost'><error type='cancel'>
        <service-unavailable/></error></message>}, and hecate gets nothing.
        """
        bounce = yield self.bareJIDBounce()
        self.assertRegex(bounce, r"<error type=.cancel.><service-unavailable")


class ProsodyPgsqlTests(EndToEndCase):
    """
    One scenario through Prosody with C{twistd mix --backend pgsql}.
    """

    serverClass = Prosody

    @scenario
    def test_channelLifecycle(self):
        """
        The IQ scenario of L{Scenarios.test_channelLifecycle} (CRE-1,
        JOIN-2, JOIN-7, NICK-1, NICK-6, MSG-4, MAM-3, MAM-7, JOIN-19,
        CRE-9, CRE-10) on the pgsql store, in an empty database of the
        test's own, which the service migrates at start-up.
        """
        dsn = pgsql.scratchDatabase(self)
        self.mixArgs = ("--backend", "pgsql", "--dsn", dsn)
        yield self.channelLifecycle()


class ProsodyMixCoreTests(EndToEndCase):
    """
    MIX-CORE through Prosody with slixmpp's MIX plugins, on the memory
    store: hag66 creates the channel, and both users join it, straight
    from their full JIDs (Prosody has no MIX-PAM), with
    C{xep_0369.join_channel}.
    """

    serverClass = Prosody

    @defer.inlineCallbacks
    def coreChannel(self, nodes):
        """
        Start; hag66 creates coven with C{xep_0369.create_channel}; hecate
        then hag66 join it with C{join_channel}, with their user names as
        nicks, subscribing to C{nodes}.

        @return: a Deferred firing with the clients and their stable
            participant ids: C{(hag66, hecate, hag66Id, hecateId)}.
        """
        hag66, hecate = yield self.start()
        name = yield hag66.createChannel(self.service, "coven")
        self.assertEqual("coven", name)
        channel = self.channel()
        hecateId = yield self.joinCore(hecate, channel, nodes, "hecate")
        hag66Id = yield self.joinCore(hag66, channel, nodes, "hag66")
        self.assertNotEqual(hag66Id, hecateId)
        return hag66, hecate, hag66Id, hecateId

    @scenario
    def test_coreChannelLifecycle(self):
        """
        One MIX-CORE channel's life through slixmpp's XEP-0369 plugin.
        DISCO-3, CRE-1 (REV-1): C{can_create_channel} is true (the service
        offers C{urn:xmpp:mix:core:1#create-channel}) and
        C{create_channel} creates coven.  JOIN-2, REV-4, REV-5, REV-7:
        C{join_channel} with a nick (see L{EndToEndCase.joinCore}); hecate
        is told of hag66 in MIX-CORE (REV-8: item id the stable id, the
        nick in a C{urn:xmpp:mix:core:1} participant).  NICK-1, NICK-6:
        C{set_nick} returns the new nick, announced to hecate.  REV-8,
        VIS-3: C{list_participants} gives C{(id, nick, None)} in the
        default jid-hidden channel.  JOIN-13 (REV-1): hecate's
        C{update_subscription} subscribes to the info node and
        unsubscribes from the participants node, and slixmpp reports
        nothing failed; once the owner makes the channel jid-visible (an
        information publish with the MIX-CORE FORM_TYPE, ADM-4, VIS-4),
        hecate is notified on the info node, and C{list_participants}
        gives each real bare JID; hag66's next nick is announced to hag66
        and not to hecate.  CRE-9, CRE-10: a hand-built MIX-CORE
        C{<destroy/>} (slixmpp's sends none) removes the channel.
        """
        hag66, hecate = yield self.start()
        channel = self.channel()
        self.assertIs(True, (yield hag66.canCreateChannel(self.service)))
        self.assertEqual("coven",
                         (yield hag66.createChannel(self.service, "coven")))
        nodes = [NODE_MESSAGES, NODE_PARTICIPANTS]
        hecateId = yield self.joinCore(hecate, channel, nodes, "hecate")
        seen = len(hecate.received)
        hag66Id = yield self.joinCore(hag66, channel, nodes, "hag66")
        yield hecate.waitForStanza(
            participantEvent(hag66Id, "hag66", namespace=NS_MIX_CORE),
            "the MIX-CORE participants item of hag66", since=seen)

        seen = len(hecate.received)
        self.assertEqual("thirdwitch",
                         (yield hag66.setNick(channel, "thirdwitch")))
        yield hecate.waitForStanza(
            participantEvent(hag66Id, "thirdwitch", namespace=NS_MIX_CORE),
            "the MIX-CORE participants item of hag66 with its new nick",
            since=seen)
        self.assertEqual(
            sorted([(hag66Id, "thirdwitch", None), (hecateId, "hecate",
                                                    None)]),
            (yield hecate.listParticipants(channel)))

        self.assertEqual(([], []), (yield hecate.updateSubscription(
            channel, subscribe=[NODE_INFO],
            unsubscribe=[NODE_PARTICIPANTS])))
        seen = len(hecate.received)
        yield self.ok(hag66, infoPublish(channel, JID_VISIBLE))
        yield hecate.waitForStanza(
            infoEvent(*JID_VISIBLE), "the info notification", since=seen)
        self.assertEqual(
            sorted([(hag66Id, "thirdwitch", hag66.jid),
                    (hecateId, "hecate", hecate.jid)]),
            (yield hecate.listParticipants(channel)))
        yield self.notToHecate(hag66, hecate, hag66Id)

        yield self.ok(hag66, destroyRequest(self.service, "coven",
                                            NS_MIX_CORE))
        info = yield hecate.disco("info", channel, node="mix")
        self.assertEqual(("cancel", "item-not-found"), errorCondition(info))

    @defer.inlineCallbacks
    def notToHecate(self, hag66, hecate, hag66Id):
        """
        hag66 changes its nick and receives the notification; hecate,
        unsubscribed from the participants node, gets none: the service
        sent it none before it answered hecate's next request (it takes
        stanzas in order).
        """
        channel = self.channel()
        mark = self.mix.mark()
        seen = len(hag66.received)
        yield hag66.setNick(channel, "hag")
        yield hag66.waitForStanza(
            participantEvent(hag66Id, "hag", namespace=NS_MIX_CORE),
            "hag66's own nick change", since=seen)
        yield hecate.disco("info", channel, node="mix")
        yield self.mix.waitForStanza(
            "SEND", "iq", "the answer to hecate's disco#info", since=mark,
            to=hecate.fullJID, type_="result")
        sent = [line.group(0) for line in re.finditer(
            stanzaPattern("SEND", "message", to=hecate.jid),
            self.mix.process.text[mark:], re.M)
            if "node='%s'" % (NODE_PARTICIPANTS,) in line.group(0)]
        self.assertEqual([], sent)

    @scenario
    def test_coreMessages(self):
        """
        Messages, presence and MAM of MIX-CORE participants through
        slixmpp's plugins.  PRES-5, X403-3: once both clients are online
        in the channel, each gets the other's presence as slixmpp's
        XEP-0403 C{mix_presence} event, from the encoded JID
        C{<stable id>#coven@…/…} (REV-3) with the nick and, in a
        jid-hidden channel, no JID.  MSG-5, MSG-6, REV-12: hag66's message
        fires slixmpp's C{mix_message} on hecate, from
        C{coven@…/<hag66's stable id>}, with the nick, no JID, no
        C{urn:xmpp:mix:1} C{<mix>}; hag66's own copy is the same form with
        its C{<origin-id>} kept and no submission-id.  VIS-3, REV-12:
        after the owner makes the channel jid-visible, hag66's next
        message carries its real bare JID in C{<mix><jid>}.  MAM-3,
        REV-14: hecate reads the archive with slixmpp's XEP-0313 iterator
        in the MIX-CORE form: from C{coven@…/<hag66's stable id>}, the
        nick in C{<mix xmlns='urn:xmpp:mix:core:1'>} without C{<jid>}
        even for the message sent while jid-visible (the archive holds the
        JID-less variant), and no C{urn:xmpp:mix:1} C{<mix>}.
        """
        nodes = [NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE]
        hag66, hecate, hag66Id, hecateId = yield self.coreChannel(nodes)
        channel = self.channel()
        proxies = {hag66: proxyJID(hag66Id, channel),
                   hecate: proxyJID(hecateId, channel)}
        yield self.appear(proxies)
        for receiver, sender in ((hag66, hecate), (hecate, hag66)):
            presence = yield receiver.waitForMixEvent(
                "mix_presence", presenceOf(proxies[sender]),
                "the presence of %s" % (sender.jid,))
            self.assertEqual((sender.jid.split("@")[0], None),
                             (presence.nick, presence.jid))

        sender = channel + "/" + hag66Id
        seen = (len(hag66.mixEvents), len(hecate.mixEvents))
        yield hag66.send(groupchat(channel, "m1", "When shall we three",
                                   originID=True))
        theirs = yield hecate.waitForMixEvent(
            "mix_message", sentBy(sender), "hag66's m1", since=seen[1])
        self.assertEqual(("hag66", None), (theirs.nick, theirs.jid))
        self.assertEqual("When shall we three",
                         str(child(theirs.stanza, NS_CLIENT, "body")))
        self.assertIsNone(child(theirs.stanza, NS_MIX, "mix"))
        own = yield hag66.waitForMixEvent(
            "mix_message", sentBy(sender), "hag66's own copy of m1",
            since=seen[0])
        self.assertEqual(theirs.stanza.getAttribute("id"),
                         own.stanza.getAttribute("id"))
        self.assertEqual("m1", child(own.stanza, NS_SID,
                                     "origin-id").getAttribute("id"))
        self.assertIsNone(mixChild(own.stanza, "submission-id",
                                   NS_MIX_CORE))

        yield self.ok(hag66, infoPublish(channel, JID_VISIBLE))
        seen = len(hecate.mixEvents)
        yield hag66.send(groupchat(channel, "m2", "meet again?",
                                   originID=True))
        theirs = yield hecate.waitForMixEvent(
            "mix_message", sentBy(sender), "hag66's m2", since=seen)
        self.assertEqual(("hag66", hag66.jid), (theirs.nick, theirs.jid))

        archived = yield hecate.mam(channel, pageSize=1)
        messages = [child(child(child(result, NS_MAM2, "result"),
                                NS_FORWARD, "forwarded"), NS_CLIENT,
                          "message")
                    for result in archived]
        self.assertEqual(["When shall we three", "meet again?"],
                         [str(child(m, NS_CLIENT, "body")) for m in messages])
        for message in messages:
            self.assertEqual(sender, message.getAttribute("from"))
            mix = child(message, NS_MIX_CORE, "mix")
            self.assertIsNotNone(mix, message.toXml())
            self.assertEqual(["nick"], [e.name for e in mix.elements()])
            self.assertEqual("hag66", mixChild(message, "nick", NS_MIX_CORE))
            self.assertIsNone(child(message, NS_MIX, "mix"))
