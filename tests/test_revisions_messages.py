"""
Groupchat messages, retraction notices, MAM results and retransmissions
per protocol revision (doc/protocol-revisions.md §3.11 REV-12, §3.15
REV-13, §3.16 REV-14, §4; tests §7 "Revision remembered", "Retraction",
"MAM", "Delivery", "Presence").

A participant's revision is the namespace of its last join (REV-2): the
participants on C{urn:xmpp:mix:core:1} here joined with a core:1 C{<join/>}
(REV-4); what this module tests is what they receive.
"""

from twisted.trial import unittest
from twisted.words.xish import domish

from mixtwisted import fanout, revisions
from mixtwisted.channels import Reflection
from mixtwisted.handlers import messages
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_INFO, NODE_MESSAGES,
    NODE_PARTICIPANTS, NODE_PRESENCE, NS_MAM2, NS_MIX, NS_PUBSUB, parse, rsm,
    serviceSettings, submitForm)
from tests.pgsql import PgsqlStoreMixin

NS_MIX_CORE = "urn:xmpp:mix:core:1"
NS_MIX_MISC = "urn:xmpp:mix:misc:0"

#: A second participant on each revision, for copies within a revision.
BANQUO = "banquo@shakespeare.example"
BANQUO_FULL = BANQUO + "/heath"

#: An operator: owner rights in every channel without participating
#: (ADM-11).
OPERATOR = "duncan@shakespeare.example"
OPERATOR_FULL = OPERATOR + "/castle"

#: The service's clock at start (tests/helpers.py Harness), as XEP-0082.
STAMP = "2017-07-14T02:40:00Z"

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)

#: The message of §3.11 (hag66's client stamps an XEP-0359 origin-id).
HARPIER = ("<body>Harpier cries</body>"
           "<origin-id xmlns='urn:xmpp:sid:0' id='92vax143g'/>")


def addressedTo(stanzas, to):
    """
    The serialized stanzas among C{stanzas} addressed to C{to}.
    """
    return [s for s in stanzas if parse(s).getAttribute("to") == to]


def without(xml, name="to"):
    """
    A serialized stanza without its attribute C{name} (C{to}: the only
    thing the copies of one variant differ in).
    """
    head, rest = xml.split(" %s='" % (name,), 1)
    return head + rest.split("'", 1)[1]


class RevisionsTestsMixin(MIXTestMixin):
    """
    Channel coven created by hag66 (C{User Message Retraction} on); hag66
    (nick thirdwitch) joined in C{urn:xmpp:mix:1}, hecate (nick hecate)
    in C{urn:xmpp:mix:core:1}; both subscribe to messages, participants
    and presence.  C{self.hag}, C{self.hecate}: their stable ids.
    """

    form = submitForm(("User Message Retraction", "true"))

    def makeSettings(self):
        return serviceSettings(admins=[OPERATOR])

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(form=self.form))
        self.hag = await self.join095(HAG66, HAG66_FULL, "thirdwitch")
        self.hecate = await self.joinCore(HECATE, "hecate")
        await self.h.advance(0)
        self.h.raw()

    async def join095(self, user, full, nick):
        """
        Join C{user} with a C{urn:xmpp:mix:1} IQ and set its nick; return
        its stable id.
        """
        response = await self.h.join(user, nodes=WITH_PRESENCE)
        self.assertResult(response)
        await self.h.setnick(full, nick)
        return response.join["jid"].split("#")[0]

    async def joinCore(self, user, nick, nodes=WITH_PRESENCE):
        """
        Join C{user} with a C{urn:xmpp:mix:core:1} IQ from its bare JID
        (as a MIX-PAM server relays it) asking for C{nick}; return its
        stable id, the join result's C{id} (REV-3, REV-4).
        """
        response = await self.h.iq(
            "<iq type='set' id='j1' from='%s' to='%s'>"
            "<join xmlns='%s'><nick>%s</nick>%s</join></iq>"
            % (user, COVEN, NS_MIX_CORE, nick,
               "".join("<subscribe node='%s'/>" % (n,) for n in nodes)))
        self.assertResult(response)
        return response.join["id"]

    async def say(self, full, payload=HARPIER, mid="92vax143g"):
        """
        Send a groupchat message; return C{(archive id, serialized
        stanzas sent)}.
        """
        await self.h.receive(
            "<message type='groupchat' id='%s' from='%s' to='%s'>%s"
            "</message>" % (mid, full, COVEN, payload))
        out = self.h.raw()
        ids = {parse(s).getAttribute("id") for s in out
               if parse(s).getAttribute("type") == "groupchat"}
        self.assertEqual(1, len(ids), out)
        return ids.pop(), out

    async def retract(self, full, archiveId, namespace, mid="r1"):
        """
        Ask to retract C{archiveId} with a C{<retract/>} in C{namespace};
        return C{(notice's archive id, serialized stanzas sent)}.
        """
        return await self.say(
            full, "<retract xmlns='%s' id='%s'/>" % (namespace, archiveId),
            mid)

    async def mam(self, full):
        """
        Read the channel's messages archive (one page); return the
        serialized result messages.
        """
        await self.h.receive(
            "<iq type='set' id='q1' from='%s' to='%s'><query xmlns='%s' "
            "queryid='f27'>%s</query></iq>"
            % (full, COVEN, NS_MAM2, rsm(5)))
        out = self.h.raw()
        self.assertResult(parse(out[-1]))
        return out[:-1]

    def mix095(self, stableId, nick):
        return ("<mix xmlns='urn:xmpp:mix:1'><nick>%s</nick><jid>%s#%s</jid>"
                "</mix>" % (nick, stableId, COVEN))

    def result(self, to, archiveId, inner):
        """
        A MAM result message (MAM-3) carrying C{inner}, archived at the
        harness's start time.
        """
        return ("<message to='%s' from='%s'><result xmlns='%s' "
                "queryid='f27' id='%s'><forwarded xmlns='urn:xmpp:forward:0'>"
                "<delay xmlns='urn:xmpp:delay' stamp='%s'/>%s</forwarded>"
                "</result></message>" % (to, COVEN, NS_MAM2, archiveId, STAMP,
                                         inner))


class ReflectionTestsMixin(RevisionsTestsMixin):
    """
    Live copies of messages (REV-12).
    """

    async def test_eachRevisionItsForm(self):
        """
        REV-12, MSG-5, MSG-6: a message from a 0.9.5 participant reaches
        the core:1 participant as the literal of §3.11 (from the channel
        JID with the sender's stable id, core:1 C{<mix/>} with the nick
        and no C{<jid/>} in a jid-hidden channel); the 0.9.5 copies are
        unchanged (proxy JID, C{<submission-id/>} for the originator).
        """
        archiveId, out = await self.say(HAG66_FULL)
        self.assertEqual([
            "<message to='%s' from='%s/%s' id='%s' type='groupchat'>"
            "<body>Harpier cries</body>"
            "<origin-id xmlns='urn:xmpp:sid:0' id='92vax143g'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "<mix xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick></mix>"
            "</message>" % (HECATE, COVEN, self.hag, archiveId, archiveId,
                            COVEN)], addressedTo(out, HECATE))
        self.assertEqual([
            "<message to='%s' from='%s' id='%s' type='groupchat'>"
            "<body>Harpier cries</body>"
            "<origin-id xmlns='urn:xmpp:sid:0' id='92vax143g'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "<mix xmlns='urn:xmpp:mix:1'><nick>thirdwitch</nick>"
            "<jid>%s#%s</jid><submission-id>92vax143g</submission-id></mix>"
            "</message>" % (HAG66, COVEN, archiveId, archiveId, COVEN,
                            self.hag, COVEN)], addressedTo(out, HAG66))
        self.assertEqual(2, len(out), out)

    async def test_copiesIdenticalWithinRevision(self):
        """
        REV-12, §4: the copies of one revision are byte-identical apart
        from C{to}; the 0.9.5 ones are what a channel without core:1
        participants sends.
        """
        await self.join095(CAT, CAT_FULL, "graymalkin")
        await self.joinCore(BANQUO, "banquo")
        self.h.raw()
        archiveId, out = await self.say(HAG66_FULL)
        core = [without(s) for s in addressedTo(out, HECATE) +
                addressedTo(out, BANQUO)]
        self.assertEqual(2, len(core))
        self.assertEqual(core[0], core[1])
        self.assertIn(" from='%s/%s' " % (COVEN, self.hag), core[0])
        (cat,) = addressedTo(out, CAT)
        self.assertEqual(
            "<message from='%s' id='%s' type='groupchat'>%s"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>%s"
            "</message>" % (COVEN, archiveId, HARPIER, archiveId, COVEN,
                            self.mix095(self.hag, "thirdwitch")),
            without(cat))

    async def test_oneSerialization(self):
        """
        REV-12, §4: one serialization per message whatever the mix of
        revisions: a core:1 recipient, a core:1 originator, everybody but
        the originator on core:1.  The variants are made by splices:
        neither C{fanout.serialize} nor any element's C{toXml} runs again.
        """
        calls = {"serialize": 0, "toXml": 0}

        def counted(name, real):
            def count(*args, **kwargs):
                calls[name] += 1
                return real(*args, **kwargs)
            return count
        serialize = counted("serialize", fanout.serialize)
        for module in (fanout, messages, revisions):
            self.patch(module, "serialize", serialize)
        self.patch(domish.Element, "toXml",
                   counted("toXml", domish.Element.toXml))
        counts = []

        async def say(sender, mid):
            calls.update(serialize=0, toXml=0)
            await self.say(sender, mid=mid)
            counts.append((calls["serialize"], calls["toXml"]))
        await say(HAG66_FULL, "m1")
        await say(HECATE_FULL, "m2")
        # Nobody left on the default revision but the sender.
        self.assertResult(await self.h.leave(HAG66))
        await self.joinCore(BANQUO, "banquo")
        await self.join095(CAT, CAT_FULL, "graymalkin")
        self.h.raw()
        await say(CAT_FULL, "m3")
        self.assertEqual([(1, 1)] * 3, counts)

    async def test_core1Originator(self):
        """
        REV-12, AMB-53: a core:1 originator gets the core:1 copy as its
        other participants do: no C{<submission-id/>}, its
        C{<origin-id/>} kept; the 0.9.5 participant gets its proxy JID
        in C{<mix/>}.
        """
        archiveId, out = await self.say(HECATE_FULL)
        core = ("<message to='%s' from='%s/%s' id='%s' type='groupchat'>%s"
                "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
                "<mix xmlns='urn:xmpp:mix:core:1'><nick>hecate</nick></mix>"
                "</message>" % (HECATE, COVEN, self.hecate, archiveId,
                                HARPIER, archiveId, COVEN))
        self.assertEqual([core], addressedTo(out, HECATE))
        self.assertNotIn("submission-id", core)
        old = ("<message to='%s' from='%s' id='%s' type='groupchat'>%s"
               "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>%s"
               "</message>" % (HAG66, COVEN, archiveId, HARPIER, archiveId,
                               COVEN, self.mix095(self.hecate, "hecate")))
        self.assertEqual([old], addressedTo(out, HAG66))

    async def test_forgedMixStripped(self):
        """
        MSG-3, REV-12, REV-13: a client's own C{<mix/>} and
        C{<retracted/>} go, in either revision's namespace: the channel's
        C{<mix/>} is the only one, last.
        """
        payload = ("<body>hi</body><mix xmlns='%s'><nick>king</nick></mix>"
                   "<retracted xmlns='%s' by='x' time='%s'/>"
                   "<mix xmlns='%s'><nick>queen</nick></mix>"
                   % (NS_MIX_CORE, NS_MIX_MISC, STAMP, NS_MIX))
        archiveId, out = await self.say(HAG66_FULL, payload)
        self.assertEqual([
            "<message to='%s' from='%s/%s' id='%s' type='groupchat'>"
            "<body>hi</body>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "<mix xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick></mix>"
            "</message>" % (HECATE, COVEN, self.hag, archiveId, archiveId,
                            COVEN)], addressedTo(out, HECATE))

    async def test_nickEscaped(self):
        """
        REV-12: the nick is escaped in the core:1 C{<mix/>} as in the 0.9.5
        one.
        """
        await self.h.setnick(HAG66_FULL, "a&amp;b&lt;c'd")
        self.h.raw()
        _, out = await self.say(HAG66_FULL)
        (core,) = addressedTo(out, HECATE)
        self.assertIn("<mix xmlns='urn:xmpp:mix:core:1'>"
                      "<nick>a&amp;b&lt;c'd</nick></mix></message>", core)
        mix = parse(core).elements(NS_MIX_CORE, "mix").__next__()
        self.assertEqual("a&b<c'd", str(mix.nick))

    async def test_backToDefault(self):
        """
        REV-2: after a join in C{urn:xmpp:mix:1} the participant gets the
        0.9.5 form again.
        """
        self.assertResult(await self.h.join(HECATE, nodes=WITH_PRESENCE))
        archiveId, out = await self.say(HAG66_FULL)
        (copy,) = addressedTo(out, HECATE)
        self.assertEqual(
            "<message from='%s' id='%s' type='groupchat'>%s"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>%s"
            "</message>" % (COVEN, archiveId, HARPIER, archiveId, COVEN,
                            self.mix095(self.hag, "thirdwitch")),
            without(copy))

    async def test_presenceSame(self):
        """
        §3.13, PRES-3: presence is the same for both revisions (the
        encoded JID and C{urn:xmpp:mix:presence:0} already): a core:1 and
        a 0.9.5 recipient get identical bytes apart from C{to} and C{id}.
        """
        await self.join095(CAT, CAT_FULL, "graymalkin")
        self.h.raw()
        await self.h.receive("<presence from='%s' to='%s'><show>dnd</show>"
                             "</presence>" % (HAG66_FULL, COVEN))
        out = [s for s in self.h.raw() if s.startswith("<presence")]
        toHecate, toCat = addressedTo(out, HECATE), addressedTo(out, CAT)
        self.assertEqual(1, len(toHecate), out)
        # Each copy has its own id (the presence sequence), as before.
        self.assertEqual([without(without(toHecate[0]), "id")],
                         [without(without(s), "id") for s in toCat])
        self.assertIn(" from='%s#%s/" % (self.hag, COVEN), toHecate[0])


class JIDVisibleTestsMixin(RevisionsTestsMixin):
    """
    The same, in a jid-visible channel.
    """

    form = submitForm(("JID Visibility", "jid-visible"))

    async def test_realJIDForCore1(self):
        """
        REV-12, VIS-3: in a jid-visible channel the core:1 C{<mix/>}
        carries the sender's real bare JID, never its proxy JID; the
        0.9.5 one stays the proxy JID (VIS-6).
        """
        archiveId, out = await self.say(HAG66_FULL)
        self.assertEqual([
            "<message to='%s' from='%s/%s' id='%s' type='groupchat'>%s"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "<mix xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick>"
            "<jid>%s</jid></mix></message>" % (
                HECATE, COVEN, self.hag, archiveId, HARPIER, archiveId,
                COVEN, HAG66)], addressedTo(out, HECATE))
        (own,) = addressedTo(out, HAG66)
        self.assertIn("<jid>%s#%s</jid>" % (self.hag, COVEN), own)

    async def test_mamWithoutJID(self):
        """
        REV-14, MIX-ANON: the archive holds the JID-less variant, so MAM
        gives a core:1 reader no C{<jid/>}, even in a jid-visible channel.
        """
        archiveId, _ = await self.say(HAG66_FULL)
        (result,) = await self.mam(HECATE_FULL)
        self.assertIn("<mix xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch"
                      "</nick></mix></message>", result)
        self.assertNotIn("<jid>", result)


class RetractionTestsMixin(RevisionsTestsMixin):
    """
    Retraction notices and tombstones (REV-13, RET-1..5).
    """

    def notice(self, to, noticeId, originalId, stableId, nick, core):
        """
        A retraction notice from a participant, in C{core:1} or 0.9.5
        form.
        """
        if core:
            return (
                "<message to='%s' from='%s/%s' id='%s' type='groupchat'>"
                "<retract xmlns='%s' id='%s'/>"
                "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
                "<mix xmlns='urn:xmpp:mix:core:1'><nick>%s</nick></mix>"
                "</message>" % (to, COVEN, stableId, noticeId, NS_MIX_MISC,
                                originalId, noticeId, COVEN, nick))
        return (
            "<message to='%s' from='%s' id='%s' type='groupchat'>"
            "<retract xmlns='%s' id='%s'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>%s"
            "</message>" % (to, COVEN, noticeId, NS_MIX, originalId,
                            noticeId, COVEN, self.mix095(stableId, nick)))

    async def test_misc0Retract(self):
        """
        REV-13, RET-2, RET-4: a C{<retract/>} in C{urn:xmpp:mix:misc:0}
        is accepted (here from the core:1 sender of the message); the
        notice reaches each revision in its form: C{misc:0} and the
        core:1 C{<mix/>} for hecate, C{urn:xmpp:mix:1} for hag66.
        """
        original, _ = await self.say(HECATE_FULL)
        noticeId, out = await self.retract(HECATE_FULL, original,
                                           NS_MIX_MISC)
        self.assertEqual(
            [self.notice(HECATE, noticeId, original, self.hecate, "hecate",
                         core=True)], addressedTo(out, HECATE))
        self.assertEqual(
            [self.notice(HAG66, noticeId, original, self.hecate, "hecate",
                         core=False)], addressedTo(out, HAG66))

    async def test_095RetractToCore1(self):
        """
        REV-13: a 0.9.5 participant's C{urn:xmpp:mix:1} retraction reaches
        the core:1 participant in C{misc:0}; the 0.9.5 originator's copy
        keeps its C{<submission-id/>} (MSG-6).
        """
        original, _ = await self.say(HAG66_FULL)
        noticeId, out = await self.retract(HAG66_FULL, original, NS_MIX)
        self.assertEqual(
            [self.notice(HECATE, noticeId, original, self.hag, "thirdwitch",
                         core=True)], addressedTo(out, HECATE))
        (own,) = addressedTo(out, HAG66)
        self.assertIn("<submission-id>r1</submission-id>", own)

    async def test_twoRetractsRefused(self):
        """
        RET-2, REV-13: one C{<retract/>} at a time, whatever its
        namespace: one in each is refused and retracts nothing.
        """
        original, _ = await self.say(HAG66_FULL)
        await self.h.receive(
            "<message id='r1' from='%s' to='%s'><retract xmlns='%s' id='%s'/>"
            "<retract xmlns='%s' id='%s'/></message>"
            % (HAG66_FULL, COVEN, NS_MIX, original, NS_MIX_MISC, original))
        (error,) = [parse(s) for s in self.h.raw()]
        self.assertError(error, "modify", "bad-request")
        (first, ) = await self.mam(HAG66_FULL)
        self.assertIn("<body>Harpier cries</body>", first)

    async def test_channelNotice(self):
        """
        REV-13, ADM-11: a retraction by an operator who is no participant
        comes from the bare channel JID without C{<mix/>} in both
        revisions; only the C{<retract/>} namespace differs.
        """
        original, _ = await self.say(HAG66_FULL)
        noticeId, out = await self.retract(OPERATOR_FULL, original,
                                           NS_MIX_MISC)
        self.assertEqual([
            "<message to='%s' from='%s' id='%s' type='groupchat'>"
            "<retract xmlns='%s' id='%s'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "</message>" % (HECATE, COVEN, noticeId, NS_MIX_MISC, original,
                            noticeId, COVEN)], addressedTo(out, HECATE))
        self.assertEqual([
            "<message to='%s' from='%s' id='%s' type='groupchat'>"
            "<retract xmlns='%s' id='%s'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "</message>" % (HAG66, COVEN, noticeId, NS_MIX, original,
                            noticeId, COVEN)], addressedTo(out, HAG66))
        _, notice = await self.mam(HECATE_FULL)
        self.assertIn(
            "<message xmlns='jabber:client' from='%s' id='%s' "
            "type='groupchat'><retract xmlns='%s' id='%s'/>"
            % (COVEN, noticeId, NS_MIX_MISC, original), notice)

    async def test_tombstoneInEachForm(self):
        """
        REV-13, REV-14, RET-5: the tombstone and the notice come out of MAM
        in each reader's form: C{misc:0} C{<retracted/>} (C{by} still the
        encoded JID) and the core:1 C{<mix/>} for hecate, as archived for
        hag66.
        """
        original, _ = await self.say(HAG66_FULL)
        noticeId, _ = await self.retract(HAG66_FULL, original, NS_MIX)
        by = "%s#%s" % (self.hag, COVEN)
        tombstone = ("<message xmlns='jabber:client' from='%s' id='%s' "
                     "type='groupchat'>"
                     "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>")
        self.assertEqual([
            self.result(HECATE_FULL, original, (
                tombstone + "<mix xmlns='urn:xmpp:mix:core:1'>"
                "<nick>thirdwitch</nick></mix><retracted xmlns='%s' by='%s' "
                "time='%s'/></message>") % (
                    "%s/%s" % (COVEN, self.hag), original, original, COVEN,
                    NS_MIX_MISC, by, STAMP)),
            self.result(HECATE_FULL, noticeId, (
                "<message xmlns='jabber:client' from='%s/%s' id='%s' "
                "type='groupchat'><retract xmlns='%s' id='%s'/>"
                "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
                "<mix xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick>"
                "</mix></message>") % (COVEN, self.hag, noticeId,
                                       NS_MIX_MISC, original, noticeId,
                                       COVEN))],
            await self.mam(HECATE_FULL))
        self.assertEqual([
            self.result(HAG66_FULL, original, (
                tombstone + "%s<retracted xmlns='%s' by='%s' time='%s'/>"
                "</message>") % (COVEN, original, original, COVEN,
                                 self.mix095(self.hag, "thirdwitch"), NS_MIX,
                                 by, STAMP)),
            self.result(HAG66_FULL, noticeId, (
                "<message xmlns='jabber:client' from='%s' id='%s' "
                "type='groupchat'><retract xmlns='%s' id='%s'/>"
                "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>%s"
                "</message>") % (COVEN, noticeId, NS_MIX, original, noticeId,
                                 COVEN, self.mix095(self.hag, "thirdwitch")))],
            await self.mam(HAG66_FULL))


class MAMTestsMixin(RevisionsTestsMixin):
    """
    The messages archive read in each revision (REV-14, REV-16).
    """

    #: A client payload quoting an earlier reflection, with its own
    #: 0.9.5 <mix/>: never the channel's, left as it is.
    QUOTE = ("<body>Harpier cries</body>"
             "<forwarded xmlns='urn:xmpp:forward:0'>"
             "<message xmlns='jabber:client' from='%s' id='old' "
             "type='groupchat'><body>quoted</body>"
             "<mix xmlns='urn:xmpp:mix:1'><nick>graymalkin</nick>"
             "<jid>qqqq#%s</jid></mix></message></forwarded>" % (COVEN, COVEN))

    async def test_samePageBothForms(self):
        """
        REV-14, MAM-3: the same page read by the core:1 participant (from
        the channel JID with the stable id, core:1 C{<mix/>} without
        C{<jid/>}; the quoted payload's own C{<mix/>} untouched) and by
        the 0.9.5 one (as archived).
        """
        first, _ = await self.say(HAG66_FULL, self.QUOTE)
        second, _ = await self.say(HECATE_FULL, mid="m2")
        archived = (
            "<message xmlns='jabber:client' from='%s' id='%s' "
            "type='groupchat'>%s<stanza-id xmlns='urn:xmpp:sid:0' id='%s' "
            "by='%s'/>%s</message>")
        self.assertEqual([
            self.result(HAG66_FULL, first, archived % (
                COVEN, first, self.QUOTE, first, COVEN,
                self.mix095(self.hag, "thirdwitch"))),
            self.result(HAG66_FULL, second, archived % (
                COVEN, second, HARPIER, second, COVEN,
                self.mix095(self.hecate, "hecate")))],
            await self.mam(HAG66_FULL))
        core = "<mix xmlns='urn:xmpp:mix:core:1'><nick>%s</nick></mix>"
        self.assertEqual([
            self.result(HECATE_FULL, first, archived % (
                "%s/%s" % (COVEN, self.hag), first, self.QUOTE, first, COVEN,
                core % ("thirdwitch",))),
            self.result(HECATE_FULL, second, archived % (
                "%s/%s" % (COVEN, self.hecate), second, HARPIER, second,
                COVEN, core % ("hecate",)))],
            await self.mam(HECATE_FULL))

    async def test_nodeArchiveAsStored(self):
        """
        REV-14, MAM-4, §8: node archives are served as stored to every
        reader: a core:1 participant reads the information node's
        archive (MAM-8) as a 0.9.5 one does.
        """
        self.assertResult(await self.h.iq(
            "<iq type='set' id='p1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>" % (
                HAG66_FULL, COVEN, NS_PUBSUB, NODE_INFO,
                submitForm(("Name", "The Coven")))))
        self.h.raw()
        pages = []
        for full in (HAG66_FULL, HECATE_FULL):
            await self.h.receive(
                "<iq type='set' id='q1' from='%s' to='%s'><query xmlns='%s' "
                "node='%s'/></iq>" % (full, COVEN, NS_MAM2, NODE_INFO))
            out = self.h.raw()
            self.assertResult(parse(out[-1]))
            pages.append([without(s) for s in out[:-1]])
        self.assertTrue(pages[0])
        self.assertEqual(pages[0], pages[1])


class DeliveryTestsMixin(RevisionsTestsMixin):
    """
    Bounces and retransmission of core:1 copies (DLV-1..4, REV-12,
    REV-14).
    """

    def bounce(self, archiveId, to, sender=HECATE):
        return ("<message type='error' id='%s' from='%s' to='%s'>"
                "<error type='wait'><remote-server-timeout xmlns='urn:ietf:"
                "params:xml:ns:xmpp-stanzas'/></error></message>"
                % (archiveId, sender, to))

    async def test_bounceHoldsAndRetransmitsCore1(self):
        """
        DLV-1, DLV-3, DLV-4, REV-12, REV-14: a bounce of a core:1 copy
        (to C{coven@…/<sender's stable id>}) from the bare JID holds
        hecate: the next message is not sent to her; after the marker is
        answered both come again in core:1 form, as MAM shows them (no
        C{<jid/>}, no C{<submission-id/>}).
        """
        first, _ = await self.say(HAG66_FULL)
        await self.h.receive(self.bounce(first, "%s/%s" % (COVEN, self.hag)))
        self.assertEqual([], self.h.raw())
        second, out = await self.say(HECATE_FULL, mid="m2")
        self.assertEqual([], addressedTo(out, HECATE))
        await self.h.advance(5)
        (marker,) = [parse(s) for s in self.h.raw()]
        self.assertEqual(HECATE, marker["to"])
        await self.h.receive("<iq type='result' id='%s' from='%s' to='%s'/>"
                             % (marker["id"], HECATE, COVEN))
        copy = ("<message to='%s' from='%s/%s' id='%s' type='groupchat'>%s"
                "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
                "<mix xmlns='urn:xmpp:mix:core:1'><nick>%s</nick></mix>"
                "</message>")
        self.assertEqual([
            copy % (HECATE, COVEN, self.hag, first, HARPIER, first, COVEN,
                    "thirdwitch"),
            copy % (HECATE, COVEN, self.hecate, second, HARPIER, second,
                    COVEN, "hecate")], self.h.raw())

    async def test_bounceOfOtherSenderIgnored(self):
        """
        DLV-1, REV-12: an error to C{coven@…/<stable id>} whose message
        was not sent by that participant is no bounce of ours: nothing is
        held.
        """
        first, _ = await self.say(HAG66_FULL)
        for to in ("%s/%s" % (COVEN, self.hecate), "%s/nobody" % (COVEN,),
                   "%s#%s/x" % (self.hag, COVEN)):
            await self.h.receive(self.bounce(first, to))
        await self.h.advance(3600)
        self.assertEqual([], self.h.raw())
        _, out = await self.say(HAG66_FULL, mid="m2")
        self.assertEqual(1, len(addressedTo(out, HECATE)))


class FullDeliveryTestsMixin(RevisionsTestsMixin):
    """
    Users of shakespeare.example reached at their clients' full JIDs
    (issue 6, tests/test_routing.py).
    """

    def makeSettings(self):
        return serviceSettings(
            admins=[OPERATOR], delivery="auto",
            deliveryDomains=(("shakespeare.example", "full"),))

    async def test_core1AtFullJID(self):
        """
        REV-12, issue 6: a core:1 participant's online client gets the
        core:1 copy at its full JID; a bounce from it to
        C{coven@…/<stable id>} is that client gone (PRES-9), nothing held.
        """
        for full in (HECATE_FULL, HAG66_FULL):
            await self.h.receive("<presence from='%s' to='%s'/>"
                                 % (full, COVEN))
        self.h.raw()
        archiveId, out = await self.say(HAG66_FULL)
        self.assertEqual([
            "<message to='%s' from='%s/%s' id='%s' type='groupchat'>%s"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>"
            "<mix xmlns='urn:xmpp:mix:core:1'><nick>thirdwitch</nick></mix>"
            "</message>" % (HECATE_FULL, COVEN, self.hag, archiveId, HARPIER,
                            archiveId, COVEN)], addressedTo(out, HECATE_FULL))
        self.assertEqual(1, len(addressedTo(out, HAG66_FULL)))
        await self.h.receive(
            "<message type='error' id='%s' from='%s' to='%s/%s'>"
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:"
            "params:xml:ns:xmpp-stanzas'/></error></message>"
            % (archiveId, HECATE_FULL, COVEN, self.hag))
        gone = [parse(s) for s in self.h.raw()]
        self.assertEqual(sorted([HECATE_FULL, HAG66_FULL]), sorted(
            p["to"] for p in gone if p.getAttribute("type") ==
            "unavailable"))
        _, out = await self.say(HAG66_FULL, mid="m2")
        self.assertEqual([], addressedTo(out, HECATE_FULL))


class PrefixTestsMixin(RevisionsTestsMixin):
    """
    Client payloads that declare namespace prefixes (valid XML): Twisted's
    serializer keeps a prefix for the rest of the stanza, but the channel's
    own C{<stanza-id/>} and C{<mix/>} are written as the channel writes
    them, so every copy, variant and archived entry stays well-formed and
    in its revision's form (REV-12, REV-13, REV-14, MSG-3, MSG-6).
    """

    #: A quoted reflection with its own 0.9.5 <mix/>, then a prefixed
    #: element of urn:xmpp:mix:1, and one of urn:xmpp:sid:0 whose prefix
    #: is declared on the message (Twisted then makes one up: xn0).
    EXTRA = ("<forwarded xmlns='urn:xmpp:forward:0'>"
             "<message xmlns='jabber:client' from='%s' id='old' "
             "type='groupchat'><body>quoted</body>"
             "<mix xmlns='urn:xmpp:mix:1'><nick>graymalkin</nick>"
             "<jid>qqqq#%s</jid></mix></message></forwarded>"
             "<m:x xmlns:m='urn:xmpp:mix:1'/>" % (COVEN, COVEN))
    PAYLOAD = "<body>hi</body>" + EXTRA + "<s:origin-id id='o1'/>"

    #: The payload as reflected.
    REFLECTED = ("<body>hi</body>" + EXTRA +
                 "<xn0:origin-id xmlns:xn0='urn:xmpp:sid:0' id='o1'/>")

    #: A retraction notice's payload and how it is reflected.
    NOTICE = EXTRA + "<s:origin-id id='o1'/>"
    NOTICE_REFLECTED = (
        EXTRA + "<xn0:origin-id xmlns:xn0='urn:xmpp:sid:0' id='o1'/>")

    async def sayPrefixed(self, full, payload=None, mid="p1"):
        """
        Send C{payload} (L{PAYLOAD}) from C{full} in a message declaring
        the prefix C{s} for C{urn:xmpp:sid:0}; return C{(archive id,
        stanzas sent)}.
        """
        await self.h.receive(
            "<message type='groupchat' id='%s' from='%s' to='%s' "
            "xmlns:s='urn:xmpp:sid:0'>%s</message>"
            % (mid, full, COVEN, self.PAYLOAD if payload is None
               else payload))
        out = self.h.raw()
        ids = {parse(s).getAttribute("id") for s in out
               if parse(s).getAttribute("type") == "groupchat"}
        self.assertEqual(1, len(ids), out)
        return ids.pop(), out

    def stanza(self, to, sender, archiveId, payload, mix):
        return ("<message %sfrom='%s' id='%s' type='groupchat'>%s"
                "<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>%s"
                "</message>" % ("" if to is None else "to='%s' " % (to,),
                                sender, archiveId, payload, archiveId, COVEN,
                                mix))

    def core1(self, nick):
        return "<mix xmlns='urn:xmpp:mix:core:1'><nick>%s</nick></mix>" % (
            nick,)

    def refuseParsing(self):
        """
        Make the archive's conversion for core:1 readers fail should it
        parse an entry (§3.16: mixtwisted's own entries never need it).
        """
        def parsed(*args):
            raise AssertionError("parsed %r" % (args,))
        self.patch(revisions, "_rerendered", parsed)

    async def test_liveCopies(self):
        """
        REV-12, MSG-6: the core:1 copy is the whole stanza, its C{<mix/>}
        the channel's (not the quoted one); the 0.9.5 originator's copy
        has C{<submission-id/>} in the channel's unprefixed C{<mix/>}.
        """
        archiveId, out = await self.sayPrefixed(HAG66_FULL)
        self.assertEqual([self.stanza(
            HECATE, "%s/%s" % (COVEN, self.hag), archiveId, self.REFLECTED,
            self.core1("thirdwitch"))], addressedTo(out, HECATE))
        self.assertEqual([self.stanza(
            HAG66, COVEN, archiveId, self.REFLECTED,
            self.mix095(self.hag, "thirdwitch").replace(
                "</mix>", "<submission-id>p1</submission-id></mix>"))],
            addressedTo(out, HAG66))

    async def test_core1Originator(self):
        """
        REV-12: from the core:1 participant, to the 0.9.5 one as a channel
        without core:1 participants sends it.
        """
        archiveId, out = await self.sayPrefixed(HECATE_FULL)
        self.assertEqual([self.stanza(
            HAG66, COVEN, archiveId, self.REFLECTED,
            self.mix095(self.hecate, "hecate"))], addressedTo(out, HAG66))
        self.assertEqual([self.stanza(
            HECATE, "%s/%s" % (COVEN, self.hecate), archiveId,
            self.REFLECTED, self.core1("hecate"))], addressedTo(out, HECATE))

    async def test_archive(self):
        """
        REV-14: the archived entry ends as the channel writes it: MAM
        gives it as stored to the 0.9.5 reader, and to the core:1 reader
        converted by splices, without parsing.
        """
        archiveId, _ = await self.sayPrefixed(HAG66_FULL)
        archived = self.stanza(None, COVEN, archiveId, self.REFLECTED,
                               self.mix095(self.hag, "thirdwitch"))
        self.assertEqual([self.result(
            HAG66_FULL, archiveId,
            archived.replace("<message ", "<message xmlns='jabber:client' ",
                             1))], await self.mam(HAG66_FULL))
        self.refuseParsing()
        self.assertEqual([self.result(
            HECATE_FULL, archiveId, self.stanza(
                None, "%s/%s" % (COVEN, self.hag), archiveId, self.REFLECTED,
                self.core1("thirdwitch")).replace(
                    "<message ", "<message xmlns='jabber:client' ", 1))],
            await self.mam(HECATE_FULL))

    async def test_retransmission(self):
        """
        DLV-3, REV-14: held after a bounce, the core:1 participant gets the
        message again in core:1 form, converted without parsing.
        """
        archiveId, _ = await self.sayPrefixed(HAG66_FULL)
        await self.h.receive(DeliveryTestsMixin.bounce(
            self, archiveId, "%s/%s" % (COVEN, self.hag)))
        await self.h.advance(5)
        (marker,) = [parse(s) for s in self.h.raw()]
        self.refuseParsing()
        await self.h.receive("<iq type='result' id='%s' from='%s' to='%s'/>"
                             % (marker["id"], HECATE, COVEN))
        self.assertEqual([self.stanza(
            HECATE, "%s/%s" % (COVEN, self.hag), archiveId, self.REFLECTED,
            self.core1("thirdwitch"))], self.h.raw())

    async def test_retraction(self):
        """
        REV-13, RET-4, RET-5, MSG-6: a retraction notice with such a
        payload reaches each revision in its form; the tombstone of a
        message whose kept C{<thread/>} declares a prefix for
        C{urn:xmpp:mix:1} keeps the channel's elements unprefixed, and
        MAM converts both without parsing.
        """
        original, _ = await self.sayPrefixed(
            HAG66_FULL, "<body>b</body><thread xmlns:m='urn:xmpp:mix:1' "
            "m:a='1'>t</thread>", mid="m1")
        noticeId, out = await self.sayPrefixed(
            HAG66_FULL, "<retract xmlns='%s' id='%s'/>%s"
            % (NS_MIX, original, self.NOTICE), mid="r1")
        retract = "<retract xmlns='%s' id='%s'/>%s"
        self.assertEqual([self.stanza(
            HECATE, "%s/%s" % (COVEN, self.hag), noticeId,
            retract % (NS_MIX_MISC, original, self.NOTICE_REFLECTED),
            self.core1("thirdwitch"))], addressedTo(out, HECATE))
        self.assertEqual([self.stanza(
            HAG66, COVEN, noticeId,
            retract % (NS_MIX, original, self.NOTICE_REFLECTED),
            self.mix095(self.hag, "thirdwitch").replace(
                "</mix>", "<submission-id>r1</submission-id></mix>"))],
            addressedTo(out, HAG66))
        thread = "<thread xmlns:m='urn:xmpp:mix:1' m:a='1'>t</thread>"
        retracted = ("<retracted xmlns='%s' by='%s#%s' time='%s'/>"
                     % ("%s", self.hag, COVEN, STAMP))
        (tombstone, notice) = await self.mam(HAG66_FULL)
        self.assertEqual(self.result(HAG66_FULL, original, self.stanza(
            None, COVEN, original, thread,
            self.mix095(self.hag, "thirdwitch") + retracted % (NS_MIX,))
            .replace("<message ", "<message xmlns='jabber:client' ", 1)),
            tombstone)
        self.refuseParsing()
        self.assertEqual([self.result(HECATE_FULL, original, self.stanza(
            None, "%s/%s" % (COVEN, self.hag), original, thread,
            self.core1("thirdwitch") + retracted % (NS_MIX_MISC,))
            .replace("<message ", "<message xmlns='jabber:client' ", 1)),
            self.result(HECATE_FULL, noticeId, self.stanza(
                None, "%s/%s" % (COVEN, self.hag), noticeId,
                retract % (NS_MIX_MISC, original, self.NOTICE_REFLECTED),
                self.core1("thirdwitch"))
            .replace("<message ", "<message xmlns='jabber:client' ", 1))],
            await self.mam(HECATE_FULL))

    async def test_channelNotice(self):
        """
        REV-13, ADM-11, MSG-6: a notice from an operator who is no
        participant, with such a payload: no C{<mix/>} for the recipients,
        the channel's unprefixed C{<stanza-id/>} last; MAM converts it
        without parsing.
        """
        original, _ = await self.sayPrefixed(HAG66_FULL)
        noticeId, out = await self.sayPrefixed(
            OPERATOR_FULL, "<retract xmlns='%s' id='%s'/>%s"
            % (NS_MIX_MISC, original, self.NOTICE), mid="r1")
        retract = "<retract xmlns='%s' id='%s'/>%s"
        for to, uri in ((HECATE, NS_MIX_MISC), (HAG66, NS_MIX)):
            self.assertEqual([self.stanza(
                to, COVEN, noticeId,
                retract % (uri, original, self.NOTICE_REFLECTED), "")],
                addressedTo(out, to))
        self.assertEqual([self.stanza(
            OPERATOR, COVEN, noticeId,
            retract % (NS_MIX, original, self.NOTICE_REFLECTED),
            "<mix xmlns='%s'><submission-id>r1</submission-id></mix>"
            % (NS_MIX,))], addressedTo(out, OPERATOR))
        self.refuseParsing()
        (_, notice) = await self.mam(HECATE_FULL)
        self.assertEqual(self.result(HECATE_FULL, noticeId, self.stanza(
            None, COVEN, noticeId,
            retract % (NS_MIX_MISC, original, self.NOTICE_REFLECTED), "")
            .replace("<message ", "<message xmlns='jabber:client' ", 1)),
            notice)


class SplicesTests(unittest.TestCase):
    """
    L{revisions.toCore1} and L{revisions.core1Reflection} by splices give
    what parsing and rendering again gives (the fallback), and fall back
    when a marker is missing.
    """

    CHANNEL = "coven@" + DOMAIN
    MIX = ("<mix xmlns='urn:xmpp:mix:1'><nick>a&amp;b</nick>"
           "<jid>p1#coven@%s</jid></mix>" % (DOMAIN,))
    SID = "<stanza-id xmlns='urn:xmpp:sid:0' id='A' by='%s'/>" % (
        "coven@" + DOMAIN,)

    def entries(self):
        head = "<message from='%s' id='A' type='groupchat'>" % (self.CHANNEL,)
        return {
            "message": head + "<body>x</body>" + self.SID + self.MIX +
            "</message>",
            "notice": head + "<retract xmlns='urn:xmpp:mix:1' id='B'/>" +
            self.SID + self.MIX + "</message>",
            "tombstone": head + self.SID + self.MIX +
            "<retracted xmlns='urn:xmpp:mix:1' by='p1#coven@%s' time='%s'/>"
            "</message>" % (DOMAIN, STAMP),
            "channel notice": head +
            "<retract xmlns='urn:xmpp:mix:1' id='B'/>" + self.SID +
            "</message>",
            "quoted mix, no channel mix": head +
            "<retract xmlns='urn:xmpp:mix:1' id='B'/><x xmlns='urn:q'>" +
            self.MIX + "</x>" + self.SID + "</message>",
        }

    def test_sameAsRerendered(self):
        for name, xml in self.entries().items():
            self.assertEqual(revisions._rerendered(xml, self.CHANNEL),
                             revisions.toCore1(xml, self.CHANNEL), name)

    def test_noParsingForOwnEntries(self):
        """
        §3.16: entries as mixtwisted writes them (messages, notices with
        or without a sender, tombstones) are converted without parsing.
        """
        entries = self.entries()
        expected = {name: revisions.toCore1(xml, self.CHANNEL)
                    for name, xml in entries.items()}

        def parsed(*args):
            self.fail("parsed %r" % (args,))
        self.patch(revisions, "_rerendered", parsed)
        self.assertEqual(expected, {
            name: revisions.toCore1(xml, self.CHANNEL)
            for name, xml in entries.items()})

    def test_core1Forms(self):
        entries = self.entries()
        self.assertEqual(
            "<message from='%s/p1' id='A' type='groupchat'>"
            "<retract xmlns='%s' id='B'/>%s"
            "<mix xmlns='urn:xmpp:mix:core:1'><nick>a&amp;b</nick></mix>"
            "</message>" % (self.CHANNEL, NS_MIX_MISC, self.SID),
            revisions.toCore1(entries["notice"], self.CHANNEL))
        self.assertEqual(
            "<message from='%s' id='A' type='groupchat'>"
            "<retract xmlns='%s' id='B'/><x xmlns='urn:q'>%s</x>%s"
            "</message>" % (self.CHANNEL, NS_MIX_MISC, self.MIX, self.SID),
            revisions.toCore1(entries["quoted mix, no channel mix"],
                              self.CHANNEL))

    def prefixed(self):
        """
        A reflection whose channel's C{<mix/>} is prefixed, after a quoted
        one that is not: what Twisted's serializer wrote before the channel
        wrote its C{<mix/>} as a string.
        """
        return (
            "<message from='%s' id='A' type='groupchat'><body>x</body>"
            "<forwarded xmlns='urn:xmpp:forward:0'><message "
            "xmlns='jabber:client' from='x@y'>%s</message></forwarded>"
            "<m:x xmlns:m='urn:xmpp:mix:1'/>%s<m:mix xmlns:m='urn:xmpp:mix:1'>"
            "<m:nick>a&amp;b</m:nick>"
            "<m:jid>p1#coven@%s</m:jid></m:mix></message>"
            % (self.CHANNEL, self.MIX, self.SID, DOMAIN))

    def reflection(self):
        return Reflection(
            channel="coven", channelJID=self.CHANNEL, archiveId="A",
            stamp=0.0, nick="a&b", proxyJID="p1#coven@" + DOMAIN,
            recipients=[], originator=HAG66, proxyId="p1")

    def test_core1ReflectionNotAtKnownTail(self):
        """
        REV-12: a live reflection that does not end with the channel's
        C{<mix/>} as the channel writes it is rendered again: never cut at
        a quoted C{<mix/>}.
        """
        self.assertEqual(
            "<message from='%s/p1' id='A' type='groupchat'><body>x</body>"
            "<forwarded xmlns='urn:xmpp:forward:0'><message "
            "xmlns='jabber:client' from='x@y'>%s</message></forwarded>"
            "<m:x xmlns:m='urn:xmpp:mix:1'/>%s"
            "<mix xmlns='urn:xmpp:mix:core:1'><nick>a&amp;b</nick></mix>"
            "</message>" % (self.CHANNEL, self.MIX, self.SID),
            revisions.core1Reflection(self.prefixed(), self.reflection()))

    def test_submissionIdNotAtKnownTail(self):
        """
        MSG-6: the originator's 0.9.5 copy of such a reflection gets
        C{<submission-id/>} in the channel's C{<mix/>}, rendered again.
        """
        message = domish.Element((None, "message"))
        message["id"] = "s&1"
        own = messages.MessageHandler._withSubmissionId(
            message, self.reflection(), self.prefixed())
        self.assertEqual(
            self.prefixed().replace(
                "</m:jid></m:mix>", "</m:jid><m:submission-id>s&amp;1"
                "</m:submission-id></m:mix>"), own.xml)

    def test_fallbackWhenHeadDiffers(self):
        """
        An entry whose C{from} is not first is rendered again, same
        result.
        """
        xml = ("<message id='A' from='%s' type='groupchat'><body>x</body>"
               "%s%s</message>" % (self.CHANNEL, self.SID, self.MIX))
        self.assertEqual(
            "<message id='A' from='%s/p1' type='groupchat'><body>x</body>"
            "%s<mix xmlns='urn:xmpp:mix:core:1'><nick>a&amp;b</nick></mix>"
            "</message>" % (self.CHANNEL, self.SID),
            revisions.toCore1(xml, self.CHANNEL))


class ReflectionMemoryTests(MemoryStoreMixin, ReflectionTestsMixin,
                            unittest.TestCase):
    pass


class ReflectionPgsqlTests(PgsqlStoreMixin, ReflectionTestsMixin,
                           unittest.TestCase):
    pass


class JIDVisibleMemoryTests(MemoryStoreMixin, JIDVisibleTestsMixin,
                            unittest.TestCase):
    pass


class JIDVisiblePgsqlTests(PgsqlStoreMixin, JIDVisibleTestsMixin,
                           unittest.TestCase):
    pass


class RetractionMemoryTests(MemoryStoreMixin, RetractionTestsMixin,
                            unittest.TestCase):
    pass


class RetractionPgsqlTests(PgsqlStoreMixin, RetractionTestsMixin,
                           unittest.TestCase):
    pass


class MAMMemoryTests(MemoryStoreMixin, MAMTestsMixin, unittest.TestCase):
    pass


class MAMPgsqlTests(PgsqlStoreMixin, MAMTestsMixin, unittest.TestCase):
    pass


class DeliveryMemoryTests(MemoryStoreMixin, DeliveryTestsMixin,
                          unittest.TestCase):
    pass


class DeliveryPgsqlTests(PgsqlStoreMixin, DeliveryTestsMixin,
                         unittest.TestCase):
    pass


class FullDeliveryMemoryTests(MemoryStoreMixin, FullDeliveryTestsMixin,
                              unittest.TestCase):
    pass


class FullDeliveryPgsqlTests(PgsqlStoreMixin, FullDeliveryTestsMixin,
                             unittest.TestCase):
    pass


class PrefixMemoryTests(MemoryStoreMixin, PrefixTestsMixin,
                        unittest.TestCase):
    pass


class PrefixPgsqlTests(PgsqlStoreMixin, PrefixTestsMixin, unittest.TestCase):
    pass
