"""
Requests that arrive together (D-45, doc/decisions.md D-46).

The service handles a stanza in several steps, each waiting for the store.
On PostgreSQL the steps of two requests can interleave; a change that reads
a channel, decides and writes must still see the other's effect.  Each test
hands the service several stanzas before letting it run, then checks the
outcome.  On the memory store nothing interleaves and the outcome is the
same; on PostgreSQL these tests fail without L{mixtwisted.serial}.
"""

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_CONFIG, NODE_MESSAGES,
    NODE_PARTICIPANTS, NS_MIX, NS_PUBSUB, errorCondition, groupchats, parse,
    submitForm)
from tests.pgsql import PgsqlStoreMixin


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


class ConcurrencyMemoryTests(MemoryStoreMixin, ConcurrencyTestsMixin,
                             unittest.TestCase):
    pass


class ConcurrencyPgsqlTests(PgsqlStoreMixin, ConcurrencyTestsMixin,
                            unittest.TestCase):
    pass
