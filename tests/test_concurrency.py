"""
Requests that arrive together (D-45, doc/decisions.md D-46).

The service handles a stanza in several steps, each waiting for the store.
On PostgreSQL the steps of two requests can interleave; a change that reads
a channel, decides and writes must still see the other's effect.  Each test
hands the service several stanzas before letting it run (L{together}), or
hands it one in the middle of another's store call (L{interrupt}), then
checks the outcome.  On the memory store nothing interleaves by itself and
the outcome of L{together} is the same; on PostgreSQL these tests fail
without L{mixtwisted.serial} and the keys taken around it (registration,
presence, retraction).  The L{interrupt} tests fail without them on both
stores.
"""

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from mixtwisted.nicks import nickKey
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_BANNED, NODE_CONFIG, NODE_INFO, NODE_MESSAGES,
    NODE_PARTICIPANTS, NODE_PRESENCE, NS_MIX, NS_PUBSUB, archivedMessages,
    errorCondition, groupchats, parse, submitForm)
from tests.pgsql import PgsqlStoreMixin

WITH_PRESENCE = (NODE_MESSAGES, NODE_PARTICIPANTS, NODE_PRESENCE)


def leaveIQ(full, iqid="l1"):
    return ("<iq type='set' id='%s' from='%s' to='%s'><leave xmlns='%s'/>"
            "</iq>" % (iqid, full, COVEN, NS_MIX))


def banIQ(bare, iqid="b1"):
    return ("<iq type='set' id='%s' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'><item id='%s'/></publish></pubsub></iq>"
            % (iqid, HAG66_FULL, COVEN, NS_PUBSUB, NODE_BANNED, bare))


def registerIQ(full, nick, iqid="r1"):
    return ("<iq type='set' id='%s' from='%s' to='%s'><register xmlns='%s'>"
            "<nick>%s</nick></register></iq>"
            % (iqid, full, DOMAIN, NS_MIX, nick))


def setnickIQ(full, nick, iqid="n1"):
    return ("<iq type='set' id='%s' from='%s' to='%s'><setnick xmlns='%s'>"
            "<nick>%s</nick></setnick></iq>" % (iqid, full, COVEN, NS_MIX,
                                                nick))


def presenceOf(full, kind=None):
    kind = " type='%s'" % (kind,) if kind else ""
    return "<presence from='%s' to='%s'%s/>" % (full, COVEN, kind)


def retractMessage(full, archiveId, mid="r1"):
    return ("<message id='%s' from='%s' to='%s'><retract xmlns='%s' id='%s'/>"
            "</message>" % (mid, full, COVEN, NS_MIX, archiveId))


def infoIQ(visibility, iqid):
    return ("<iq type='set' id='%s' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (iqid, HAG66_FULL, COVEN, NS_PUBSUB, NODE_INFO,
               submitForm(("JID Visibility", visibility))))


def groupchat(full, body, mid="m1"):
    return ("<message type='groupchat' id='%s' from='%s' to='%s'>"
            "<body>%s</body></message>" % (mid, full, COVEN, body))


class ConcurrencyTestsMixin(MIXTestMixin):
    """
    Channel C{coven} created by hag66, who has joined.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.assertResult(await self.h.join(HAG66))
        self.h.take()

    async def together(self, *stanzas):
        """
        Hand the service every stanza before it may run, wait until it has
        finished them all, and return the responses by id.
        """
        for xml in stanzas:
            self.h.stub.send(parse(xml))
        await self.h.settle()
        return {s.getAttribute("id"): s for s in self.h.take()
                if s.name == "iq"}

    def interrupt(self, method, *stanzas, when=lambda *args: True):
        """
        Make the store's C{method}, the first time it is called with
        arguments for which C{when} is true, hand the service C{stanzas}
        and wait until the service has done all it can meanwhile (no store
        call outstanding but this one) before going on: the stanzas' steps
        run, or wait for a key, in the middle of the request that made the
        call.
        """
        real = getattr(self.h.store, method)
        fired = []

        async def standIn(*args, **kwargs):
            if not fired and when(*args, **kwargs):
                fired.append(True)
                for xml in stanzas:
                    self.h.stub.send(parse(xml))
                await self.quiet()
            return await real(*args, **kwargs)
        setattr(self.h.store, method, standIn)
        self.addCleanup(delattr, self.h.store, method)
        return fired

    async def quiet(self):
        """
        Wait (at most about ten seconds) until the only store call
        outstanding is the caller's own.
        """
        for _ in range(2000):
            await deferLater(reactor, 0.005, lambda: None)
            if self.h.tracker.outstanding <= 1:
                return

    async def interrupted(self, method, first, stanzas, when):
        """
        Hand the service C{first}, interrupted at C{method} by C{stanzas}
        (L{interrupt}); return every stanza it sent.
        """
        fired = self.interrupt(method, *stanzas, when=when)
        await self.h.receive(first)
        self.assertTrue(fired, "%s was not called" % (method,))
        return self.h.take()

    @staticmethod
    def responses(stanzas):
        return {s.getAttribute("id"): s for s in stanzas if s.name == "iq"}

    def joinIQ(self, user, iqid):
        return ("<iq type='set' id='%s' from='%s' to='%s'><join xmlns='%s'>"
                "<subscribe node='%s'/><subscribe node='%s'/></join></iq>"
                % (iqid, user, COVEN, NS_MIX, NODE_MESSAGES,
                   NODE_PARTICIPANTS))

    async def test_sameUserJoinsTwice(self):
        """
        PJID-1, PJID-3: two joins of one user at once make one participant
        with one proxy JID, given in both results.
        """
        responses = await self.together(self.joinIQ(CAT, "j1"),
                                        self.joinIQ(CAT, "j2"))
        for iqid in ("j1", "j2"):
            self.assertResult(responses[iqid])
        proxies = {responses[i].join["jid"] for i in ("j1", "j2")}
        self.assertEqual(1, len(proxies))
        participants = await self.h.store.listParticipants("coven")
        self.assertEqual([HAG66, CAT], [p.jid for p in participants])

    async def test_sameNickAtOnce(self):
        """
        NICK-4: two participants asking for the same nick at once: one
        gets it, the other a conflict.
        """
        self.assertResult(await self.h.join(HECATE))
        self.h.take()
        responses = await self.together(*(
            "<iq type='set' id='%s' from='%s' to='%s'><setnick xmlns='%s'>"
            "<nick>thirdwitch</nick></setnick></iq>"
            % (iqid, full, COVEN, NS_MIX)
            for iqid, full in (("n1", HAG66_FULL), ("n2", HECATE_FULL))))
        outcomes = sorted(
            responses[i].getAttribute("type") for i in ("n1", "n2"))
        self.assertEqual(["error", "result"], outcomes)
        loser = [responses[i] for i in ("n1", "n2")
                 if responses[i].getAttribute("type") == "error"][0]
        self.assertEqual(("cancel", "conflict"), errorCondition(loser))
        nicks = [p.nick for p in await self.h.store.listParticipants("coven")]
        self.assertEqual(1, nicks.count("thirdwitch"))

    async def test_configChangeAndJoinKeepBoth(self):
        """
        ADM-3, JOIN-1: a configuration change published while a join is
        under way loses neither: the new owner list is stored and the
        joining user is a participant.
        """
        publish = (
            "<iq type='set' id='p1' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG,
               submitForm(("Owner", [HAG66, HECATE]))))
        responses = await self.together(self.joinIQ(CAT, "j1"), publish)
        self.assertResult(responses["j1"])
        self.assertResult(responses["p1"])
        channel = await self.h.store.getChannel("coven")
        self.assertEqual((HAG66, HECATE), tuple(channel.config["Owner"]))
        self.assertIsNotNone(await self.h.store.getParticipant("coven", CAT))

    async def test_messagesKeepArrivalOrder(self):
        """
        MSG-4, MSG-5: messages from one client handed over together are
        archived and reflected in the order they arrived, with increasing
        archive ids.
        """
        messages = ["<message type='groupchat' id='m%d' from='%s' to='%s'>"
                    "<body>%d</body></message>" % (n, HAG66_FULL, COVEN, n)
                    for n in range(8)]
        for xml in messages:
            self.h.stub.send(parse(xml))
        await self.h.settle()
        reflected = groupchats(self.h.take())
        self.assertEqual([str(n) for n in range(8)],
                         [str(s.body) for s in reflected])
        ids = [s["id"] for s in reflected]
        self.assertEqual(sorted(ids), ids)
        self.assertEqual(len(set(ids)), len(ids))

    async def test_leaveAndMessage(self):
        """
        MSG-2, JOIN-20: a message sent while its sender's leave is under
        way is either reflected before the leave or refused after it; the
        sender is not a participant afterwards.
        """
        self.assertResult(await self.h.join(CAT))
        self.h.take()
        await self.together(
            "<iq type='set' id='l1' from='%s' to='%s'><leave xmlns='%s'/>"
            "</iq>" % (CAT_FULL, COVEN, NS_MIX),
            "<message type='groupchat' id='m1' from='%s' to='%s'>"
            "<body>bye</body></message>" % (CAT_FULL, COVEN))
        self.assertIsNone(await self.h.store.getParticipant("coven", CAT))

    # Nick registration runs per channel under the channel's key, and
    # claims the nick under the nick's key (D-46).

    async def registrationInterruptedBy(self, stanza):
        """
        cat, a participant, registers a nick; C{stanza} arrives while the
        registration gives cat the nick in coven.
        """
        self.assertResult(await self.h.join(CAT))
        self.h.take()
        out = await self.interrupted(
            "nickHolder", registerIQ(CAT_FULL, "greymalkin"), [stanza],
            when=lambda key: key == nickKey("greymalkin"))
        return self.responses(out)

    async def test_leaveDuringRegistration(self):
        """
        JOIN-18..20, NICK-13: a leave arriving while a registration gives
        the leaving participant its nick is not undone: the participant
        stays gone, with no subscriptions.
        """
        responses = await self.registrationInterruptedBy(leaveIQ(CAT_FULL))
        self.assertResult(responses["r1"])
        self.assertResult(responses["l1"])
        self.assertIsNone(await self.h.store.getParticipant("coven", CAT))
        self.assertEqual([], list(
            await self.h.store.getSubscriptions("coven", CAT)))

    async def test_banDuringRegistration(self):
        """
        ADM-9, MSG-2: a ban arriving while a registration gives the banned
        participant its nick is not undone: the banned user is no
        participant and may not post.
        """
        responses = await self.registrationInterruptedBy(banIQ(CAT))
        self.assertResult(responses["r1"])
        self.assertResult(responses["b1"])
        self.assertIsNone(await self.h.store.getParticipant("coven", CAT))
        await self.h.message(CAT_FULL, "Purr", "m9")
        out = self.h.take()
        self.assertEqual([], groupchats(out))
        self.assertEqual([("auth", "forbidden")],
                         [errorCondition(s) for s in out])

    async def assertNickHeldOnce(self, responses, setnick, register):
        """
        NICK-8: of a setnick by hag66 and a registration by cat of the same
        nick, exactly one succeeded, and the outcome agrees with it.
        """
        outcomes = {i: responses[i].getAttribute("type")
                    for i in (setnick, register)}
        self.assertEqual(["error", "result"], sorted(outcomes.values()),
                         outcomes)
        loser = setnick if outcomes[setnick] == "error" else register
        self.assertEqual(("cancel", "conflict"),
                         errorCondition(responses[loser]))
        holder = await self.h.store.nickHolder(nickKey("greymalkin"))
        hag = await self.h.store.getParticipant("coven", HAG66)
        if outcomes[register] == "result":
            self.assertEqual(CAT, holder)
            self.assertNotEqual("greymalkin", hag.nick)
        else:
            self.assertIsNone(holder)
            self.assertEqual("greymalkin", hag.nick)

    async def test_setnickDuringRegistration(self):
        """
        NICK-8, NICK-10: hag66 asks for a nick in coven while cat is
        registering it: one of them gets it, the other a conflict.
        """
        out = await self.interrupted(
            "registerNick", registerIQ(CAT_FULL, "greymalkin"),
            [setnickIQ(HAG66_FULL, "greymalkin")],
            when=lambda jid, nick, key: jid == CAT)
        await self.assertNickHeldOnce(self.responses(out), "n1", "r1")

    async def test_registrationDuringSetnick(self):
        """
        NICK-8, NICK-10: cat registers a nick while hag66's setnick of it
        is being stored: one of them gets it, the other a conflict.
        """
        out = await self.interrupted(
            "saveParticipant", setnickIQ(HAG66_FULL, "greymalkin"),
            [registerIQ(CAT_FULL, "greymalkin")],
            when=lambda participant: participant.nick == "greymalkin")
        await self.assertNickHeldOnce(self.responses(out), "n1", "r1")

    # Presence changes run under the channel's key (D-46).

    async def onlineSetUp(self):
        """
        hag66 (nick thirdwitch) and hecate subscribe to presence; cat joins
        with it, without a nick.
        """
        self.assertResult(await self.h.iq(
            "<iq type='set' id='u1' from='%s' to='%s'>"
            "<update-subscription xmlns='%s'><subscribe node='%s'/>"
            "</update-subscription></iq>"
            % (HAG66_FULL, COVEN, NS_MIX, NODE_PRESENCE)))
        await self.h.setnick(HAG66_FULL, "thirdwitch")
        self.assertResult(await self.h.join(HECATE, nodes=WITH_PRESENCE))
        self.assertResult(await self.h.join(CAT, nodes=WITH_PRESENCE))
        await self.h.advance(0)
        self.h.take()
        self.catProxy = "%s#coven@%s" % (
            (await self.h.store.getParticipant("coven", CAT)).proxyId,
            DOMAIN)

    def catPresence(self, stanzas, to=HECATE):
        """
        The types of the presence stanzas from cat's clients to C{to}.
        """
        return [s.getAttribute("type") for s in stanzas
                if s.name == "presence" and s.getAttribute("to") == to and
                s.getAttribute("from", "").startswith(self.catProxy + "/")]

    async def assertCatGone(self, sent):
        """
        cat is no participant and has no item; if its presence was sent,
        so was its unavailable, last (X403-6).
        """
        self.assertIsNone(await self.h.store.getParticipant("coven", CAT))
        self.assertEqual([], [r.jid for r in
                              await self.h.store.listPresence("coven")
                              if r.jid == CAT_FULL])
        kinds = self.catPresence(sent)
        if kinds:
            self.assertEqual("unavailable", kinds[-1], kinds)

    async def test_leaveDuringPresence(self):
        """
        JOIN-20, PRES-2, NICK-5: a leave arriving while the leaver's
        client presence is being handled: no item stays behind, no nick
        brings the participant back, and its unavailable follows its
        presence.
        """
        await self.onlineSetUp()
        out = await self.interrupted(
            "clientResource", presenceOf(CAT_FULL), [leaveIQ(CAT_FULL)],
            when=lambda name, full: full == CAT_FULL)
        self.assertResult(self.responses(out)["l1"])
        await self.assertCatGone(out)

    async def test_banDuringPresence(self):
        """
        ADM-9, PRES-2: a ban arriving while the banned user's client
        presence is being handled leaves no item behind.
        """
        await self.onlineSetUp()
        out = await self.interrupted(
            "clientResource", presenceOf(CAT_FULL), [banIQ(CAT)],
            when=lambda name, full: full == CAT_FULL)
        self.assertResult(self.responses(out)["b1"])
        await self.assertCatGone(out)

    async def test_presenceAndLeaveTogether(self):
        """
        JOIN-20, PRES-2: a client's presence and its user's leave handed
        over together leave no item behind.
        """
        await self.onlineSetUp()
        await self.together(presenceOf(CAT_FULL), leaveIQ(CAT_FULL))
        await self.assertCatGone(self.h.take())

    async def test_availableThenUnavailable(self):
        """
        PRES-1, PRES-5: a new client's available and unavailable handed
        over together, in that order: the client ends up without an item,
        and its unavailable is sent after its presence.
        """
        await self.onlineSetUp()
        for xml in (presenceOf(CAT_FULL), presenceOf(CAT_FULL,
                                                     "unavailable")):
            self.h.stub.send(parse(xml))
        await self.h.settle()
        out = self.h.take()
        self.assertEqual([], await self.h.store.listPresence("coven"))
        self.assertEqual([None, "unavailable"], self.catPresence(out))
        self.assertIsNotNone(
            await self.h.store.getParticipant("coven", CAT))

    async def test_onlineClientsLeaveBanDestroy(self):
        """
        JOIN-20, ADM-9, CRE-10, X403-6: leave, ban and destroy with clients
        online complete (presence removal from inside those changes never
        waits for the channel they hold) and send unavailable.
        """
        await self.onlineSetUp()
        for full in (HAG66_FULL, HECATE_FULL, CAT_FULL):
            await self.h.receive(presenceOf(full))
        self.assertEqual(3, len(await self.h.store.listPresence("coven")))
        self.h.take()
        self.assertResult(await self.h.iq(leaveIQ(CAT_FULL)))
        self.assertEqual(["unavailable"], self.catPresence(self.h.take()))
        self.assertResult(await self.h.iq(banIQ(HECATE)))
        gone = [s for s in self.h.take() if s.name == "presence"]
        self.assertEqual([(HAG66, "unavailable")],
                         [(s["to"], s.getAttribute("type")) for s in gone])
        self.assertResult(await self.h.iq(
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='%s' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN, NS_MIX)))
        gone = [s for s in self.h.take() if s.name == "presence"]
        self.assertEqual([(HAG66, "unavailable")],
                         [(s["to"], s.getAttribute("type")) for s in gone])
        self.assertEqual([], await self.h.store.listPresence("coven"))

    async def test_presenceLeaveBanDestroyTogether(self):
        """
        D-46: presence of every client handed over together with a leave
        and a ban, then with a destroy: all complete, nothing is left.
        """
        await self.onlineSetUp()
        responses = await self.together(
            presenceOf(HAG66_FULL), presenceOf(HECATE_FULL),
            presenceOf(CAT_FULL), leaveIQ(CAT_FULL), banIQ(HECATE),
            presenceOf(CAT_FULL, "unavailable"), presenceOf(HECATE_FULL))
        for iqid in ("l1", "b1"):
            self.assertResult(responses[iqid])
        self.assertEqual([HAG66_FULL], [
            r.jid for r in await self.h.store.listPresence("coven")])
        responses = await self.together(
            presenceOf(HAG66_FULL, "unavailable"), presenceOf(HAG66_FULL),
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='%s' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN, NS_MIX), presenceOf(HAG66_FULL))
        self.assertResult(responses["d1"])
        self.assertIsNone(await self.h.store.getChannel("coven"))
        self.assertEqual([], await self.h.store.listPresence("coven"))

    # Retraction runs like a message, under the channel's key (D-46).

    async def test_messageDuringRetraction(self):
        """
        RET-4, MSG-4, MSG-5: a message arriving while a retraction's
        tombstone is being written comes after the notice: greater archive
        id, archived after it and reflected after it.
        """
        self.assertResult(await self.h.join(HECATE))
        await self.h.message(HAG66_FULL, "Harpier cries", "m1")
        first = groupchats(self.h.take())[0]["id"]
        out = await self.interrupted(
            "replaceArchived", retractMessage(HAG66_FULL, first),
            [groupchat(HECATE_FULL, "Fillet", "m2")],
            when=lambda *args: True)
        toHag = [(s["id"], "notice" if s.retract else str(s.body))
                 for s in groupchats(out) if s["to"] == HAG66]
        self.assertEqual(["notice", "Fillet"], [k for _, k in toHag])
        self.assertEqual(sorted(toHag), toHag)
        archived = [m["id"] for m in await archivedMessages(self.h)]
        self.assertEqual([first] + [i for i, _ in toHag], archived)

    async def test_retractTwiceTogether(self):
        """
        RET-2, D-RET-2: two retractions of one message handed over
        together: one notice; the other finds it retracted already.
        """
        await self.h.message(HAG66_FULL, "Harpier cries", "m1")
        first = groupchats(self.h.take())[0]["id"]
        for mid in ("r1", "r2"):
            self.h.stub.send(parse(retractMessage(HAG66_FULL, first, mid)))
        await self.h.settle()
        out = self.h.take()
        notices = [s for s in groupchats(out) if s.retract]
        self.assertEqual(1, len(notices), [s.toXml() for s in out])
        self.assertEqual([("r2", ("cancel", "item-not-found"))],
                         [(s["id"], errorCondition(s)) for s in out
                          if s.getAttribute("type") == "error"])
        self.assertEqual(2, len(await archivedMessages(self.h)))


    async def test_messageDuringSwitchToHidden(self):
        """
        VIS-3, REV-12: a message that arrives while the owner's switch to
        jid-hidden is being stored takes its turn after the switch, and
        its MIX-CORE copy carries no real JID: the message reads the
        channel again in its turn rather than trusting the record read
        when it arrived.
        """
        self.assertResult(await self.h.iq(infoIQ("jid-visible", "v0")))
        self.assertResult(await self.h.iq(
            "<iq type='set' id='j2' from='%s' to='%s'>"
            "<join xmlns='urn:xmpp:mix:core:1'><subscribe node='%s'/>"
            "<nick>hecate</nick></join></iq>"
            % (HECATE, COVEN, NODE_MESSAGES)))
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.h.take()
        sent = await self.interrupted(
            "updateChannel", infoIQ("jid-hidden", "v1"),
            [groupchat(HAG66_FULL, "after")], when=lambda record: True)
        self.assertResult(self.responses(sent)["v1"])
        copies = [s for s in groupchats(sent)
                  if s.getAttribute("to") == HECATE]
        self.assertEqual(1, len(copies))
        self.assertNotIn(HAG66, copies[0].toXml())


class ConcurrencyMemoryTests(MemoryStoreMixin, ConcurrencyTestsMixin,
                             unittest.TestCase):
    pass


class ConcurrencyPgsqlTests(PgsqlStoreMixin, ConcurrencyTestsMixin,
                            unittest.TestCase):
    pass
