"""
PubSub node items and notifications per protocol revision
(doc/protocol-revisions.md §3.9, §3.10, §3.17, §4): what a participant on
C{urn:xmpp:mix:core:1} reads and is notified of, beside one on
C{urn:xmpp:mix:1}, on literal XML.

MIX-CORE participants are made by joining through the channel logic
(C{ChannelService.join(..., revision='urn:xmpp:mix:core:1')}), the way the
join handler does for a C{core:1} join.
"""

import re

from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID

from mixtwisted import fanout
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_CONFIG, NODE_INFO, NODE_JIDMAP,
    NODE_JIDMAP_VISIBLE, NODE_MESSAGES, NODE_PARTICIPANTS, NS_MIX, NS_PUBSUB,
    NS_PUBSUB_EVENT, mamQuery, submitForm)
from tests.pgsql import PgsqlStoreMixin

NS_MIX_CORE = "urn:xmpp:mix:core:1"
NS_MIX_ANON = "urn:xmpp:mix:anon:0"
NS_MIX_ADMIN = "urn:xmpp:mix:admin:0"

#: A notification as the service sends it: C{to}, the random id, the body.
_EVENT = re.compile(
    r"^<message to='([^']*)' from='%s' id='[0-9a-f]{32}'>(.*)</message>$"
    % (re.escape(COVEN),))

#: The C{<items/>} of an items result.
_ITEMS = re.compile(r"<items node='[^']*'(/>|>.*</items>)")


def event(node, body):
    """
    The literal C{<event/>} of a notification about C{node}.
    """
    return ("<event xmlns='%s'><items node='%s'>%s</items></event>"
            % (NS_PUBSUB_EVENT, node, body))


def formType(value):
    """
    The literal FORM_TYPE field of a data form.
    """
    return ("<field type='hidden' var='FORM_TYPE'><value>%s</value></field>"
            % (value,))


class RevisionNodesTestsMixin(MIXTestMixin):
    """
    Node items and notifications rendered in each reader's revision.
    """

    async def makeCoven(self, *fields, hagPrefs=""):
        """
        Create coven (hag66 owner, hecate administrator, plus C{fields}),
        join hag66 in C{urn:xmpp:mix:1} (participants, jidmap, info;
        nick thirdwitch) and hecate in MIX-CORE (the same nodes; nick
        hecate).  Sets C{self.hag} and C{self.hecate} to their stable ids.
        """
        self.assertResult(await self.h.create(form=submitForm(
            ("Administrator", [HECATE]), *fields)))
        nodes = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP, NODE_INFO)
        response = await self.h.join(HAG66, nodes=nodes, extra=hagPrefs)
        self.assertResult(response)
        self.hag = response.join["jid"].split("#")[0]
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.hecate = (await self.joinCore(HECATE, nodes, "hecate")).proxyId
        self.h.take()

    async def joinCore(self, user, nodes=(NODE_MESSAGES,), nick=None,
                       prefs=None):
        """
        Join C{user} to coven in MIX-CORE, as a C{core:1} join does
        (REV-2, REV-5), with the preferences C{prefs} (C{(var, [values])}
        pairs) if given; return the join result.
        """
        # Not awaited directly: the caller would resume inside the
        # channel's serializer, before it lets the next change in.  As
        # for a stanza, wait until the service has finished.
        outcome = []
        self.h.channels.join(
            JID(user), "coven", list(nodes), submittedPrefs=prefs,
            revision=NS_MIX_CORE, nick=nick).addBoth(outcome.append)
        await self.h.settle()
        [result] = outcome
        if isinstance(result, Failure):
            result.raiseException()
        return result

    def proxy(self, stableId):
        return "%s#coven@%s" % (stableId, DOMAIN)

    async def sent(self, xml):
        """
        Deliver a stanza; return the serialized stanzas sent.
        """
        await self.h.receive(xml)
        return self.h.raw()

    async def assertMIX1Participants(self):
        """
        hag66, on C{urn:xmpp:mix:1}, reads the participants as 0.9.5 has
        them, whatever the channel's JID Visibility: proxy JIDs as ids,
        nicks only (REV-8).
        """
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><nick>thirdwitch</nick>"
            "</participant></item>"
            "<item id='%s'><participant xmlns='%s'><nick>hecate</nick>"
            "</participant></item></items>"
            % (NODE_PARTICIPANTS, self.proxy(self.hag), NS_MIX,
               self.proxy(self.hecate), NS_MIX),
            await self.read(HAG66_FULL, NODE_PARTICIPANTS))

    async def read(self, requester, node, itemIds=()):
        """
        Read C{node} as C{requester}; return the literal C{<items/>}.
        """
        selection = "".join("<item id='%s'/>" % (i,) for i in itemIds)
        [response] = await self.sent(
            "<iq type='get' id='r1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'>%s</items></pubsub></iq>"
            % (requester, COVEN, NS_PUBSUB, node, selection))
        self.assertIn("type='result'", response)
        return _ITEMS.search(response).group(0)

    def events(self, sent):
        """
        C{(to, body)} of the notifications among C{sent}, in order.
        """
        return [_EVENT.match(s).groups() for s in sent
                if _EVENT.match(s) is not None]

    def countSerializations(self):
        """
        Count the calls of L{fanout.serialize} from now on (the notifier
        calls it through the module); return the list that grows by one
        per call.
        """
        calls = []
        serialize = fanout.serialize

        def counting(element):
            calls.append(element)
            return serialize(element)
        self.patch(fanout, "serialize", counting)
        return calls

    # JID visibility (REV-8, VIS-3)

    async def test_participantsJIDHidden(self):
        """
        REV-8, VIS-3, NODE-3: in a jid-hidden channel, a MIX-CORE
        participant reads items named by stable id, in C{core:1}, with the
        nick and no C{<jid>}; a C{urn:xmpp:mix:1} participant reads the
        0.9.5 items (proxy JID ids, no C{<jid>}).
        """
        await self.makeCoven()
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><nick>thirdwitch</nick>"
            "</participant></item>"
            "<item id='%s'><participant xmlns='%s'><nick>hecate</nick>"
            "</participant></item></items>"
            % (NODE_PARTICIPANTS, self.hag, NS_MIX_CORE, self.hecate,
               NS_MIX_CORE),
            await self.read(HECATE_FULL, NODE_PARTICIPANTS))
        await self.assertMIX1Participants()

    async def test_participantsJIDVisible(self):
        """
        REV-8, VIS-3: in a jid-visible channel a MIX-CORE reader gets each
        participant's real bare JID as a C{<jid/>} child; a
        C{urn:xmpp:mix:1} reader still gets none.
        """
        await self.makeCoven(("JID Visibility", "jid-visible"))
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><nick>thirdwitch</nick>"
            "<jid>%s</jid></participant></item>"
            "<item id='%s'><participant xmlns='%s'><nick>hecate</nick>"
            "<jid>%s</jid></participant></item></items>"
            % (NODE_PARTICIPANTS, self.hag, NS_MIX_CORE, HAG66, self.hecate,
               NS_MIX_CORE, HECATE),
            await self.read(HECATE_FULL, NODE_PARTICIPANTS))
        await self.assertMIX1Participants()

    async def test_participantsJIDMaybeVisible(self):
        """
        REV-8, REV-9, VIS-3, NODE-7: in a jid-maybe-visible channel only
        the participant whose preference shares its JID shows it to
        MIX-CORE readers, never a proxy JID in C{<jid>}; jidmap-visible
        is named by stable id in C{anon:0}, with the proxy JID of whoever
        does not share, and stays 0.9.5 for C{urn:xmpp:mix:1} readers.
        """
        await self.makeCoven(
            ("JID Visibility", "jid-maybe-visible"),
            hagPrefs=submitForm(("JID Visibility", "always")))
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><nick>thirdwitch</nick>"
            "<jid>%s</jid></participant></item>"
            "<item id='%s'><participant xmlns='%s'><nick>hecate</nick>"
            "</participant></item></items>"
            % (NODE_PARTICIPANTS, self.hag, NS_MIX_CORE, HAG66, self.hecate,
               NS_MIX_CORE),
            await self.read(HECATE_FULL, NODE_PARTICIPANTS))
        await self.assertMIX1Participants()
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item></items>"
            % (NODE_JIDMAP_VISIBLE, self.hag, NS_MIX_ANON, HAG66,
               self.hecate, NS_MIX_ANON, self.proxy(self.hecate)),
            await self.read(HECATE_FULL, NODE_JIDMAP_VISIBLE))
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item></items>"
            % (NODE_JIDMAP_VISIBLE, self.proxy(self.hag), NS_MIX, HAG66,
               self.proxy(self.hecate), NS_MIX, self.proxy(self.hecate)),
            await self.read(HAG66_FULL, NODE_JIDMAP_VISIBLE))

    async def test_jidmapPerRevision(self):
        """
        REV-9, NODE-5: an administrator on MIX-CORE reads jidmap named by
        stable id with C{<participant xmlns='urn:xmpp:mix:anon:0'>}; the
        owner on C{urn:xmpp:mix:1} reads the 0.9.5 items.
        """
        await self.makeCoven()
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item></items>"
            % (NODE_JIDMAP, self.hag, NS_MIX_ANON, HAG66, self.hecate,
               NS_MIX_ANON, HECATE),
            await self.read(HECATE_FULL, NODE_JIDMAP))
        self.assertEqual(
            "<items node='%s'>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item>"
            "<item id='%s'><participant xmlns='%s'><jid>%s</jid>"
            "</participant></item></items>"
            % (NODE_JIDMAP, self.proxy(self.hag), NS_MIX, HAG66,
               self.proxy(self.hecate), NS_MIX, HECATE),
            await self.read(HAG66_FULL, NODE_JIDMAP))

    async def test_itemSelectionBothSpellings(self):
        """
        REV-8, XEP-0060 §6.5.8: C{<item id/>} may name a participant by
        stable id or by bare proxy JID, whatever the reader's revision;
        the item comes back in the reader's revision.
        """
        await self.makeCoven()
        core = ("<items node='%s'><item id='%s'><participant xmlns='%s'>"
                "<nick>thirdwitch</nick></participant></item></items>"
                % (NODE_PARTICIPANTS, self.hag, NS_MIX_CORE))
        old = ("<items node='%s'><item id='%s'><participant xmlns='%s'>"
               "<nick>thirdwitch</nick></participant></item></items>"
               % (NODE_PARTICIPANTS, self.proxy(self.hag), NS_MIX))
        for spelling in (self.hag, self.proxy(self.hag)):
            self.assertEqual(core, await self.read(
                HECATE_FULL, NODE_PARTICIPANTS, [spelling]))
            self.assertEqual(old, await self.read(
                HAG66_FULL, NODE_PARTICIPANTS, [spelling]))
        self.assertEqual(
            "<items node='%s'><item id='%s'><participant xmlns='%s'>"
            "<jid>%s</jid></participant></item></items>"
            % (NODE_JIDMAP, self.hecate, NS_MIX_ANON, HECATE),
            await self.read(HECATE_FULL, NODE_JIDMAP, [self.hecate]))
        self.assertEqual("<items node='%s'/>" % (NODE_PARTICIPANTS,),
                         await self.read(HECATE_FULL, NODE_PARTICIPANTS,
                                         ["nobody"]))

    # Notifications per revision (§4, REV-5, REV-8, REV-9)

    async def test_joinNotifications(self):
        """
        REV-5, REV-8, REV-9, JOIN-7: a MIX-CORE join with a nick in a
        jid-visible channel.  The C{urn:xmpp:mix:1} subscriber gets the
        join item without nick, the jidmap item and then the nick item,
        all 0.9.5; the MIX-CORE subscriber gets the join and jidmap
        notifications named by stable id, its join item already carrying
        the nick and the real JID, its jidmap item in C{anon:0}, and no
        second copy of the join item.
        """
        await self.makeCoven(("JID Visibility", "jid-visible"))
        cat = (await self.joinCore(CAT, nick="graymalkin")).proxyId
        core = ("<item id='%s'><participant xmlns='%s'><nick>graymalkin"
                "</nick><jid>%s</jid></participant></item>"
                % (cat, NS_MIX_CORE, CAT))
        self.assertEqual([
            (HAG66, event(NODE_PARTICIPANTS,
                          "<item id='%s'><participant xmlns='%s'/></item>"
                          % (self.proxy(cat), NS_MIX))),
            (HECATE, event(NODE_PARTICIPANTS, core)),
            (HAG66, event(NODE_JIDMAP,
                          "<item id='%s'><participant xmlns='%s'>"
                          "<jid>%s</jid></participant></item>"
                          % (self.proxy(cat), NS_MIX, CAT))),
            (HECATE, event(NODE_JIDMAP,
                           "<item id='%s'><participant xmlns='%s'>"
                           "<jid>%s</jid></participant></item>"
                           % (cat, NS_MIX_ANON, CAT))),
            (HAG66, event(NODE_PARTICIPANTS,
                          "<item id='%s'><participant xmlns='%s'>"
                          "<nick>graymalkin</nick></participant></item>"
                          % (self.proxy(cat), NS_MIX))),
        ], self.events(self.h.raw()))

    async def test_joinWithoutNickNotifications(self):
        """
        REV-5, REV-8: a MIX-CORE join without nick in a jid-hidden
        channel: the join item carries neither nick nor JID for either
        revision; the generated nick follows to both, each in its form.
        """
        await self.makeCoven()
        result = await self.joinCore(CAT)
        cat, nick = result.proxyId, result.nick
        self.assertEqual([
            (HAG66, event(NODE_PARTICIPANTS,
                          "<item id='%s'><participant xmlns='%s'/></item>"
                          % (self.proxy(cat), NS_MIX))),
            (HECATE, event(NODE_PARTICIPANTS,
                           "<item id='%s'><participant xmlns='%s'/></item>"
                           % (cat, NS_MIX_CORE))),
            (HAG66, event(NODE_PARTICIPANTS,
                          "<item id='%s'><participant xmlns='%s'>"
                          "<nick>%s</nick></participant></item>"
                          % (self.proxy(cat), NS_MIX, nick))),
            (HECATE, event(NODE_PARTICIPANTS,
                           "<item id='%s'><participant xmlns='%s'>"
                           "<nick>%s</nick></participant></item>"
                           % (cat, NS_MIX_CORE, nick))),
        ], [e for e in self.events(self.h.raw())
            if "'%s'" % (NODE_PARTICIPANTS,) in e[1]])

    async def test_nickChangeNotifications(self):
        """
        REV-8, NICK-6: a nick change reaches each subscriber in its
        revision; in a jid-visible channel the MIX-CORE item carries the
        real JID.
        """
        await self.makeCoven(("JID Visibility", "jid-visible"))
        cat = (await self.proxyOf(CAT, nodes=(NODE_MESSAGES,))).split("#")[0]
        self.h.take()
        sent = await self.sent(
            "<iq type='set' id='n1' from='%s' to='%s'><setnick xmlns='%s'>"
            "<nick>graymalkin</nick></setnick></iq>"
            % (CAT_FULL, COVEN, NS_MIX))
        self.assertEqual([
            (HAG66, event(NODE_PARTICIPANTS,
                          "<item id='%s'><participant xmlns='%s'>"
                          "<nick>graymalkin</nick></participant></item>"
                          % (self.proxy(cat), NS_MIX))),
            (HECATE, event(NODE_PARTICIPANTS,
                           "<item id='%s'><participant xmlns='%s'>"
                           "<nick>graymalkin</nick><jid>%s</jid>"
                           "</participant></item>"
                           % (cat, NS_MIX_CORE, CAT))),
        ], self.events(sent))

    async def test_leaveNotifications(self):
        """
        REV-8, REV-9, JOIN-19, JOIN-21: a leave retracts the participants
        and jidmap items, by bare proxy JID for C{urn:xmpp:mix:1}
        subscribers and by stable id for MIX-CORE ones.
        """
        await self.makeCoven()
        cat = (await self.joinCore(CAT, nick="graymalkin")).proxyId
        self.h.take()
        sent = await self.sent(
            "<iq type='set' id='l1' from='%s' to='%s'><leave xmlns='%s'/>"
            "</iq>" % (CAT, COVEN, NS_MIX))
        self.assertEqual([
            (HAG66, event(NODE_PARTICIPANTS,
                          "<retract id='%s'/>" % (self.proxy(cat),))),
            (HECATE, event(NODE_PARTICIPANTS, "<retract id='%s'/>" % (cat,))),
            (HAG66, event(NODE_JIDMAP,
                          "<retract id='%s'/>" % (self.proxy(cat),))),
            (HECATE, event(NODE_JIDMAP, "<retract id='%s'/>" % (cat,))),
        ], self.events(sent))

    async def test_oneSerializationPerRevision(self):
        """
        §4, PS-5: a notification is serialized once when every subscriber
        is on C{urn:xmpp:mix:1}, and once per revision present when some
        are on MIX-CORE (nick change and leave, several subscribers of
        each revision); copies of one revision differ only in C{to}.
        """
        self.assertResult(await self.h.create())
        old = ["user%d@shakespeare.example" % (i,) for i in range(3)]
        for user in old:
            self.assertResult(await self.h.join(user))
        await self.proxyOf(CAT, nodes=(NODE_MESSAGES,))
        self.h.take()
        calls = self.countSerializations()
        await self.h.setnick(CAT_FULL, "graymalkin")
        self.assertEqual(1, len(calls))
        await self.h.leave(CAT)
        self.assertEqual(2, len(calls))

        core = ["core%d@shakespeare.example" % (i,) for i in range(3)]
        for user in core:
            await self.joinCore(user, (NODE_PARTICIPANTS,))
        await self.proxyOf(CAT, nodes=(NODE_MESSAGES,))
        self.h.take()
        del calls[:]
        sent = await self.sent(
            "<iq type='set' id='n1' from='%s' to='%s'><setnick xmlns='%s'>"
            "<nick>graymalkin</nick></setnick></iq>"
            % (CAT_FULL, COVEN, NS_MIX))
        self.assertEqual(2, len(calls))
        events = self.events(sent)
        self.assertEqual(sorted(old + core), sorted(to for to, _ in events))
        self.assertEqual(1, len({body for to, body in events if to in old}))
        self.assertEqual(1, len({body for to, body in events if to in core}))
        await self.h.leave(CAT)
        self.assertEqual(4, len(calls))

    # Changes of the JID shown (VIS-3, REV-8)

    def coreItem(self, stableId, nick, jid=None):
        """
        The literal MIX-CORE participants item of a participant, with
        C{<jid/>} when C{jid} is given.
        """
        return ("<item id='%s'><participant xmlns='%s'><nick>%s</nick>%s"
                "</participant></item>"
                % (stableId, NS_MIX_CORE, nick,
                   "<jid>%s</jid>" % (jid,) if jid else ""))

    def nodesOf(self, events):
        """
        C{(to, node)} of each notification among C{events}.
        """
        return [(to, re.search("<items node='([^']*)'", body).group(1))
                for to, body in events]

    def participantEvents(self, events):
        """
        The notifications of the participants node among C{events}.
        """
        return [(to, body) for to, body in events
                if "<items node='%s'>" % (NODE_PARTICIPANTS,) in body]

    async def switchVisibility(self, mode):
        """
        Publish C{mode} as the JID Visibility of coven as its owner
        hag66; return the notifications sent.
        """
        sent = await self.sent(
            "<iq type='set' id='v1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_INFO,
               submitForm(("JID Visibility", mode))))
        self.assertIn("type='result'", sent[-1])
        return self.events(sent)

    async def setPrefs(self, value):
        """
        Set hag66's JID Visibility preference with a user-preference
        request (PREF-3); return the notifications sent.
        """
        sent = await self.sent(
            "<iq type='set' id='p1' from='%s' to='%s'>"
            "<user-preference xmlns='%s'>%s</user-preference></iq>"
            % (HAG66_FULL, COVEN, NS_MIX,
               submitForm(("JID Visibility", value))))
        self.assertIn("type='result'", sent[-1])
        return self.events(sent)

    async def test_visibilityChangeNotifications(self):
        """
        VIS-3, VIS-4, REV-8: when the channel's JID Visibility changes,
        the MIX-CORE subscriber of the participants node gets, after the
        info notification, exactly the items whose C{<jid>} appeared or
        disappeared, as they are now, one item per event (slixmpp fails
        on events with several items); the C{urn:xmpp:mix:1} subscriber
        gets only the info notification, as before.  Going jid-hidden,
        the participant VIS-4 removes is retracted before the mode
        changes and never sent again, and the others' items come without
        C{<jid>}.
        """
        await self.makeCoven(
            hagPrefs=submitForm(("JID Visibility", "prefer visible")))
        events = await self.switchVisibility("jid-visible")
        self.assertEqual([(HAG66, NODE_INFO), (HECATE, NODE_INFO),
                          (HECATE, NODE_PARTICIPANTS),
                          (HECATE, NODE_PARTICIPANTS)], self.nodesOf(events))
        self.assertEqual(
            [(HECATE, event(NODE_PARTICIPANTS,
                            self.coreItem(self.hag, "thirdwitch", HAG66))),
             (HECATE, event(NODE_PARTICIPANTS,
                            self.coreItem(self.hecate, "hecate", HECATE)))],
            self.participantEvents(events))

        events = await self.switchVisibility("jid-maybe-visible")
        self.assertEqual([(HAG66, NODE_INFO), (HECATE, NODE_INFO),
                          (HECATE, NODE_PARTICIPANTS)], self.nodesOf(events))
        self.assertEqual(
            [(HECATE, event(NODE_PARTICIPANTS,
                            self.coreItem(self.hecate, "hecate")))],
            self.participantEvents(events))

        cat = (await self.joinCore(CAT, nick="graymalkin", prefs=[
            ("JID Visibility", ["always"])])).proxyId
        self.h.take()
        events = await self.switchVisibility("jid-hidden")
        self.assertEqual([
            (HAG66, NODE_PARTICIPANTS), (HECATE, NODE_PARTICIPANTS),
            (HAG66, NODE_JIDMAP), (HECATE, NODE_JIDMAP),
            (HAG66, NODE_INFO), (HECATE, NODE_INFO),
            (HECATE, NODE_PARTICIPANTS)], self.nodesOf(events))
        self.assertEqual([
            (HAG66, event(NODE_PARTICIPANTS,
                          "<retract id='%s'/>" % (self.proxy(cat),))),
            (HECATE, event(NODE_PARTICIPANTS, "<retract id='%s'/>" % (cat,))),
            (HECATE, event(NODE_PARTICIPANTS,
                           self.coreItem(self.hag, "thirdwitch"))),
        ], self.participantEvents(events))
        self.assertNotIn("<jid>", "".join(
            body for to, body in self.participantEvents(events)))

    async def test_preferenceChangeNotifications(self):
        """
        VIS-3, PREF-3, JOIN-11, REV-8: in a jid-maybe-visible channel, a
        participant whose preference starts sharing its JID is notified
        to the MIX-CORE subscriber with C{<jid>}, and without it when the
        preference stops sharing, whether set by user-preference or by a
        join carrying a form; the C{urn:xmpp:mix:1} subscriber (the
        participant itself) is sent no notification.
        """
        await self.makeCoven(("JID Visibility", "jid-maybe-visible"))
        shown = [(HECATE, event(NODE_PARTICIPANTS, self.coreItem(
            self.hag, "thirdwitch", HAG66)))]
        hidden = [(HECATE, event(NODE_PARTICIPANTS, self.coreItem(
            self.hag, "thirdwitch")))]
        self.assertEqual(shown, await self.setPrefs("prefer visible"))
        self.assertEqual(hidden, await self.setPrefs("default"))

        nodes = "".join("<subscribe node='%s'/>" % (node,) for node in (
            NODE_MESSAGES, NODE_PARTICIPANTS, NODE_JIDMAP, NODE_INFO))
        for value, expected in (("always", shown), ("never", hidden)):
            sent = await self.sent(
                "<iq type='set' id='j1' from='%s' to='%s'>"
                "<join xmlns='%s'>%s%s</join></iq>"
                % (HAG66, COVEN, NS_MIX, nodes,
                   submitForm(("JID Visibility", value))))
            self.assertIn("type='result'", sent[-1])
            self.assertEqual(expected, self.events(sent))

    async def test_unchangedJIDNotNotified(self):
        """
        VIS-3, REV-8: a change of JID Visibility or of a preference that
        shows or hides nobody's JID sends no participants notification to
        either revision: jid-hidden to jid-maybe-visible with nobody
        sharing, a preference that still does not share, back to
        jid-hidden, and a sharing preference in a jid-visible channel.
        """
        await self.makeCoven()
        self.assertEqual([(HAG66, NODE_INFO), (HECATE, NODE_INFO)],
                         self.nodesOf(await self.switchVisibility(
                             "jid-maybe-visible")))
        self.assertEqual([], await self.setPrefs("prefer not"))
        self.assertEqual([(HAG66, NODE_INFO), (HECATE, NODE_INFO)],
                         self.nodesOf(await self.switchVisibility(
                             "jid-hidden")))
        await self.switchVisibility("jid-visible")
        self.assertEqual([], await self.setPrefs("prefer visible"))

    async def test_visibilityChangeWithoutMIXCore(self):
        """
        §4, VIS-3, REV-8: in a channel where every subscriber is on
        C{urn:xmpp:mix:1}, a change of JID Visibility that shows every
        JID builds no participants event at all: nothing is serialized
        for the notification nobody gets, and only the info item is sent.
        """
        self.assertResult(await self.h.create())
        users = [HAG66, HECATE, CAT]
        for user in users:
            self.assertResult(await self.h.join(user, nodes=(
                NODE_PARTICIPANTS, NODE_INFO)))
        self.h.take()
        calls = self.countSerializations()
        events = await self.switchVisibility("jid-visible")
        self.assertEqual([(user, NODE_INFO) for user in users],
                         self.nodesOf(events))
        self.assertEqual([], [c for c in calls
                              if NODE_PARTICIPANTS in c.toXml()])

    # Information and configuration forms (§3.17)

    async def test_infoFormTypePerRevision(self):
        """
        §3.17, REV-16, CHAN-5: the information item's FORM_TYPE is
        C{urn:xmpp:mix:core:1} for a MIX-CORE reader and
        C{urn:xmpp:mix:1} for a C{urn:xmpp:mix:1} reader and for a
        non-participant; nothing else differs.
        """
        await self.makeCoven(("Information Node Subscription", "anyone"))
        core = await self.read(HECATE_FULL, NODE_INFO)
        old = await self.read(HAG66_FULL, NODE_INFO)
        self.assertIn(formType(NS_MIX_CORE), core)
        self.assertIn(formType(NS_MIX), old)
        self.assertEqual(old, core.replace(formType(NS_MIX_CORE),
                                           formType(NS_MIX)))
        self.assertEqual(old, await self.read(CAT_FULL, NODE_INFO))

    async def test_configFormTypePerRevision(self):
        """
        §3.17, NODE-12: the configuration item's FORM_TYPE is MIX-ADMIN's
        C{urn:xmpp:mix:admin:0} for a MIX-CORE administrator,
        C{urn:xmpp:mix:1} for the owner on C{urn:xmpp:mix:1}.
        """
        await self.makeCoven()
        core = await self.read(HECATE_FULL, NODE_CONFIG)
        old = await self.read(HAG66_FULL, NODE_CONFIG)
        self.assertIn(formType(NS_MIX_ADMIN), core)
        self.assertEqual(old, core.replace(formType(NS_MIX_ADMIN),
                                           formType(NS_MIX)))

    async def publish(self, sender, node, form):
        [response] = [s for s in await self.sent(
            "<iq type='set' id='a1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (sender, COVEN, NS_PUBSUB, node, form)) if s.startswith("<iq")]
        return response

    async def test_publishInfoCoreFormType(self):
        """
        §3.17, ADM-2, MAM-4: information published with FORM_TYPE
        C{urn:xmpp:mix:core:1} is accepted; its notification reaches each
        subscriber with its revision's FORM_TYPE, and the node's archive
        keeps the C{urn:xmpp:mix:1} form.
        """
        await self.makeCoven()
        self.h.raw()
        await self.h.receive(
            "<iq type='set' id='a1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HECATE_FULL, COVEN, NS_PUBSUB, NODE_INFO,
               submitForm(("Name", "Witches"), formType=NS_MIX_CORE)))
        sent = self.h.raw()
        self.assertIn("type='result'", sent[-1])
        events = dict(self.events(sent))
        self.assertIn(formType(NS_MIX), events[HAG66])
        self.assertIn(formType(NS_MIX_CORE), events[HECATE])
        self.assertIn("<value>Witches</value>", events[HECATE])
        self.assertEqual(events[HAG66], events[HECATE].replace(
            formType(NS_MIX_CORE), formType(NS_MIX)))
        response, results = await mamQuery(self.h, HECATE_FULL,
                                           node=NODE_INFO)
        self.assertResult(response)
        archived = results[-1].toXml()
        self.assertIn("<value>%s</value>" % (NS_MIX,), archived)
        self.assertNotIn(NS_MIX_CORE, archived)

    async def test_publishFormTypes(self):
        """
        §3.17, ADM-4: the configuration is accepted with FORM_TYPE
        C{urn:xmpp:mix:admin:0}; information with MIX-ADMIN's FORM_TYPE,
        and configuration with MIX-CORE's, are refused with bad-request.
        """
        await self.makeCoven()
        for node, form, accepted in (
                (NODE_CONFIG, NS_MIX_ADMIN, True),
                (NODE_CONFIG, NS_MIX, True),
                (NODE_INFO, NS_MIX, True),
                (NODE_CONFIG, NS_MIX_CORE, False),
                (NODE_INFO, NS_MIX_ADMIN, False)):
            field = ("Open Presence", "true") if node == NODE_CONFIG \
                else ("Name", "Witches")
            await self.h.receive(
                "<iq type='set' id='a1' from='%s' to='%s'><pubsub xmlns='%s'>"
                "<publish node='%s'>%s</publish></pubsub></iq>"
                % (HAG66_FULL, COVEN, NS_PUBSUB, node,
                   submitForm(field, formType=form)))
            [response] = [s for s in self.h.take() if s.name == "iq"]
            if accepted:
                self.assertResult(response)
            else:
                self.assertError(response, "modify", "bad-request")


class RevisionNodesMemoryTests(MemoryStoreMixin, RevisionNodesTestsMixin,
                               unittest.TestCase):
    pass


class RevisionNodesPgsqlTests(PgsqlStoreMixin, RevisionNodesTestsMixin,
                              unittest.TestCase):
    pass
