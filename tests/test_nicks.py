"""
Setting and assigning nicks (requirements.md §1.10 NICK-1..6, XEP-0369
§6.1.5), driven by literal XML.
"""

import uuid

from twisted.trial import unittest

from mixtwisted.settings import Limits

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_MESSAGES, NODE_PARTICIPANTS, NS_MIX,
    NS_PUBSUB_EVENT, notifications, serviceSettings)
from tests.pgsql import PgsqlStoreMixin


def participantEvents(stanzas):
    """
    Return C{(to, item id, nick or None)} of every participants-node item
    notification.
    """
    found = []
    for to, items in notifications(stanzas, NODE_PARTICIPANTS):
        for item in items.elements(NS_PUBSUB_EVENT, "item"):
            nicks = [str(n) for p in item.elements(NS_MIX, "participant")
                     for n in p.elements(NS_MIX, "nick")]
            found.append((to, item["id"], nicks[0] if nicks else None))
    return found


class NickTestsMixin(MIXTestMixin):
    """
    Nicks in channel C{coven}; hag66 and cat are participants subscribed
    to messages and participants.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.proxies = {}
        for user in (HAG66, CAT):
            response = await self.h.join(user)
            self.assertResult(response)
            self.proxies[user] = response.join["jid"]
        self.h.take()

    async def nickOf(self, bare):
        return (await self.h.store.getParticipant("coven", bare)).nick

    async def setnickRaw(self, full, body, to=COVEN):
        return await self.h.iq(
            "<iq type='set' id='7nve413p' from='%s' to='%s'>"
            "<setnick xmlns='urn:xmpp:mix:1'>%s</setnick></iq>"
            % (full, to, body))

    def assignedNick(self, response):
        self.assertResult(response)
        setnick = response.firstChildElement()
        self.assertEqual((NS_MIX, "setnick"), (setnick.uri, setnick.name))
        nicks = list(setnick.elements())
        self.assertEqual(1, len(nicks))
        self.assertEqual((NS_MIX, "nick"), (nicks[0].uri, nicks[0].name))
        return str(nicks[0])

    # NICK-1

    async def test_setnick(self):
        """
        NICK-1: the result comes from the channel to the full JID, same
        id, with C{<setnick xmlns='urn:xmpp:mix:1'><nick>thirdwitch</nick>
        </setnick>}.
        """
        response = await self.setnickRaw(HAG66_FULL, "<nick>thirdwitch</nick>")
        self.assertEqual(COVEN, response["from"])
        self.assertEqual(HAG66_FULL, response["to"])
        self.assertEqual("7nve413p", response["id"])
        self.assertEqual(1, len(list(response.elements())))
        self.assertEqual("thirdwitch", self.assignedNick(response))
        self.assertEqual("thirdwitch", await self.nickOf(HAG66))

    # NICK-2

    async def test_precisTrimsSpaces(self):
        """
        NICK-2: the PRECIS nickname profile removes leading and trailing
        spaces and collapses inner runs; the result echoes the enforced
        nick.
        """
        nick = self.assignedNick(
            await self.h.setnick(HAG66_FULL, "  Third   Witch  "))
        self.assertEqual("Third Witch", nick)
        self.assertEqual("Third Witch", await self.nickOf(HAG66))

    async def test_precisCaseInsensitiveConflict(self):
        """
        NICK-2, NICK-3: nicks are compared case-insensitively:
        'thirdwitch' clashes with 'ThirdWitch' (conflict, cancel).
        """
        self.assertEqual("ThirdWitch", self.assignedNick(
            await self.h.setnick(HAG66_FULL, "ThirdWitch")))
        response = await self.h.setnick(CAT_FULL, "thirdwitch")
        self.assertError(response, "cancel", "conflict")
        self.assertIs(None, await self.nickOf(CAT))

    async def test_precisWidthConflict(self):
        """
        NICK-2: fullwidth letters map to their ASCII forms, so they clash
        too.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "witch"))
        response = await self.h.setnick(
            CAT_FULL, "\uff37\uff49\uff54\uff43\uff48")
        self.assertError(response, "cancel", "conflict")

    async def test_precisDisallowedCharacter(self):
        """
        NICK-2: a nick with a character the profile disallows (a control
        character, a zero-width space) is C{not-acceptable} (modify).
        """
        for nick in ("third\u0085witch", "third\u200bwitch"):
            response = await self.h.setnick(HAG66_FULL, nick)
            self.assertError(response, "modify", "not-acceptable")
        self.assertIs(None, await self.nickOf(HAG66))

    async def useNickLimit(self, limit):
        """
        Start over on a service with C{maxNickLength=limit}, hag66 and cat
        joined.
        """
        self.makeSettings = lambda: serviceSettings(
            limits=Limits(maxNickLength=limit))
        await self.setUp()

    async def test_tooLong(self):
        """
        NICK-2, limits: a nick longer than maxNickLength is
        C{not-acceptable}; one at the limit is fine (default limit 64 and
        a configured 12).
        """
        for limit in (64, 12):
            if limit != 64:
                await self.useNickLimit(limit)
            self.assertError(
                await self.h.setnick(HAG66_FULL, "a" * (limit + 1)),
                "modify", "not-acceptable")
            self.assertIs(None, await self.nickOf(HAG66))
            self.assertEqual("a" * limit, self.assignedNick(
                await self.h.setnick(HAG66_FULL, "a" * limit)))

    async def test_assignedNickWithSmallLimit(self):
        """
        NICK-4, limits: asking for an assigned nick succeeds whatever the
        operator's maxNickLength (the limit guards user-supplied values;
        the request is valid).  Here 12 < the 36 characters of a UUID.
        """
        await self.useNickLimit(12)
        nick = self.assignedNick(await self.setnickRaw(HAG66_FULL, "<nick/>"))
        self.assertEqual(nick, await self.nickOf(HAG66))
        self.assertNotIn("hag66", nick)

    # NICK-3

    async def test_conflict(self):
        """
        NICK-3: a nick held by another participant is a C{conflict}
        (cancel); the requester's nick is unchanged and no notification is
        sent.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.assignedNick(await self.h.setnick(CAT_FULL, "greymalkin"))
        self.h.take()
        response = await self.h.setnick(CAT_FULL, "thirdwitch")
        self.assertError(response, "cancel", "conflict")
        self.assertEqual("greymalkin", await self.nickOf(CAT))
        self.assertEqual([], participantEvents(self.h.take()))

    async def test_freedNickReusable(self):
        """
        NICK-3: after a participant changes nick, its old nick is free.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.assignedNick(await self.h.setnick(HAG66_FULL, "hag"))
        self.assertEqual("thirdwitch", self.assignedNick(
            await self.h.setnick(CAT_FULL, "thirdwitch")))

    async def test_nickOfLeftUserReusable(self):
        """
        NICK-3: the nick of a participant who left is free.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.assertResult(await self.h.iq(
            "<iq type='set' id='l1' from='%s' to='%s'>"
            "<leave xmlns='urn:xmpp:mix:1'/></iq>" % (HAG66, COVEN)))
        self.assertEqual("thirdwitch", self.assignedNick(
            await self.h.setnick(CAT_FULL, "thirdwitch")))

    # NICK-4

    def checkGenerated(self, nick, user):
        self.assertEqual(4, uuid.UUID(nick).version)
        self.assertEqual(str(uuid.UUID(nick)), nick)
        local = user.split("@")[0]
        self.assertNotIn(local, nick)
        self.assertNotIn("shakespeare", nick)

    async def test_emptyNickAssigned(self):
        """
        NICK-4: an empty C{<nick/>} asks the channel to assign a nick: a
        UUID4 not revealing the JID, returned in the result and stored.
        """
        nick = self.assignedNick(await self.setnickRaw(HAG66_FULL, "<nick/>"))
        self.checkGenerated(nick, HAG66)
        self.assertEqual(nick, await self.nickOf(HAG66))

    async def test_missingNickAssigned(self):
        """
        NICK-4: C{<setnick/>} without C{<nick/>} also assigns one; two
        participants get different nicks.
        """
        first = self.assignedNick(await self.setnickRaw(HAG66_FULL, ""))
        second = self.assignedNick(await self.setnickRaw(CAT_FULL, ""))
        self.checkGenerated(first, HAG66)
        self.checkGenerated(second, CAT)
        self.assertNotEqual(first, second)

    # NICK-5

    async def test_messageWithoutNickAssigns(self):
        """
        NICK-5, AMB-21: a participant without nick sending a groupchat
        message first gets a generated nick, published to participants
        subscribers with the full item; the reflected C{<mix><nick>} is
        that nick.
        """
        await self.h.message(CAT_FULL, "Thrice the brinded cat hath mew'd")
        out = self.h.take()
        notes = participantEvents(out)
        self.assertEqual(sorted([HAG66, CAT]), sorted(t for t, _, _ in notes))
        nicks = set(n for _, _, n in notes)
        self.assertEqual(1, len(nicks))
        nick = nicks.pop()
        self.assertIsNot(None, nick)
        self.checkGenerated(nick, CAT)
        self.assertEqual({self.proxies[CAT]}, set(i for _, i, _ in notes))
        reflected = [s for s in out if s.getAttribute("type") == "groupchat"]
        self.assertEqual(2, len(reflected))
        for message in reflected:
            self.assertEqual(nick, str(message.mix.nick))
        self.assertEqual(nick, await self.nickOf(CAT))

        # The nick stays: no new notification on the next message.
        await self.h.message(CAT_FULL, "Thrice", "m2")
        out = self.h.take()
        self.assertEqual([], participantEvents(out))
        self.assertEqual(nick, str(out[0].mix.nick))

    async def test_messageWithNickKeepsIt(self):
        """
        NICK-5: a participant with a nick is not given another one.
        """
        self.assignedNick(await self.h.setnick(CAT_FULL, "greymalkin"))
        self.h.take()
        await self.h.message(CAT_FULL, "Anon")
        out = self.h.take()
        self.assertEqual([], participantEvents(out))
        self.assertEqual(["greymalkin"] * 2, [str(m.mix.nick) for m in out])

    # NICK-6

    async def test_nickNotification(self):
        """
        NICK-6: setting a nick notifies participants subscribers at their
        bare JIDs, from the channel, with the full item
        C{<item id='PROXY'><participant xmlns='urn:xmpp:mix:1'><nick>…
        </nick></participant></item>}.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        out = [s for s in self.h.take() if s.name == "message"]
        self.assertEqual(sorted([HAG66, CAT]), sorted(s["to"] for s in out))
        for message in out:
            self.assertEqual(COVEN, message["from"])
            items = message.event.items
            self.assertEqual(NODE_PARTICIPANTS, items["node"])
            children = list(items.elements())
            self.assertEqual(1, len(children))
            item = children[0]
            self.assertEqual((NS_PUBSUB_EVENT, "item"), (item.uri, item.name))
            self.assertEqual(self.proxies[HAG66], item["id"])
            participant = list(item.elements())
            self.assertEqual([(NS_MIX, "participant")],
                             [(p.uri, p.name) for p in participant])
            nick = list(participant[0].elements())
            self.assertEqual([(NS_MIX, "nick")],
                             [(n.uri, n.name) for n in nick])
            self.assertEqual("thirdwitch", str(nick[0]))

    async def test_nickChangeNotification(self):
        """
        NICK-6: a nick change notifies again with the new nick under the
        same item id.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.h.take()
        self.assignedNick(await self.h.setnick(HAG66_FULL, "hecatesfriend"))
        notes = participantEvents(self.h.take())
        self.assertEqual(
            sorted([(HAG66, self.proxies[HAG66], "hecatesfriend"),
                    (CAT, self.proxies[HAG66], "hecatesfriend")]),
            sorted(notes))

    async def test_sameNickTwice(self):
        """
        NICK-6: setting the nick one already has succeeds without a second
        notification.
        """
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.h.take()
        self.assertEqual("thirdwitch", self.assignedNick(
            await self.h.setnick(HAG66_FULL, "thirdwitch")))
        self.assertEqual([], self.h.take())

    async def test_notifiesOnlyParticipantsSubscribers(self):
        """
        NICK-6: a participant not subscribed to the participants node gets
        no nick notification.
        """
        self.assertResult(await self.h.join(HECATE, nodes=(NODE_MESSAGES,)))
        self.h.take()
        self.assignedNick(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        recipients = [t for t, _, _ in participantEvents(self.h.take())]
        self.assertNotIn(HECATE, recipients)
        self.assertEqual(sorted([HAG66, CAT]), sorted(recipients))

    async def test_setnickNonParticipant(self):
        """
        NICK-1: setnick by a non-participant is C{forbidden} (auth).
        """
        response = await self.h.setnick(HECATE_FULL, "hecate")
        self.assertError(response, "auth", "forbidden")
        self.assertEqual([], self.h.take())

    async def test_setnickUnknownChannel(self):
        """
        NICK-1: setnick to a channel that does not exist is
        C{item-not-found}.
        """
        response = await self.h.setnick(HAG66_FULL, "thirdwitch",
                                        "nowhere@" + DOMAIN)
        self.assertError(response, "cancel", "item-not-found")


class NickMemoryTests(MemoryStoreMixin, NickTestsMixin, unittest.TestCase):
    pass


class NickPgsqlTests(PgsqlStoreMixin, NickTestsMixin, unittest.TestCase):
    pass
