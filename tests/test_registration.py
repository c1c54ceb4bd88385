"""
Nick registration with the service (requirements.md §1.10 NICK-8..14,
DISCO-5, AMB-22; XEP-0369 §6.1.6), driven by literal XML.
"""

import uuid

from twisted.trial import unittest

from mixtwisted.settings import Limits

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_PARTICIPANTS, NS_DISCO_INFO,
    NS_MIX, NS_PUBSUB_EVENT, child, notifications, serviceSettings)
from tests.pgsql import PgsqlStoreMixin


class RegistrationTestsMixin(MIXTestMixin):
    """
    Channels C{coven} and C{witches}; hag66 and cat joined coven, hag66
    joined witches (subscribed to messages and participants).
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create())
        self.assertResult(await self.h.create("witches"))
        self.proxies = {}
        for user, name in ((HAG66, "coven"), (CAT, "coven"),
                           (HAG66, "witches")):
            response = await self.h.join(user, "%s@%s" % (name, DOMAIN))
            self.assertResult(response)
            self.proxies[user, name] = response.join["jid"]
        self.h.take()

    async def register(self, sender, body, iqId="7nve413p", to=DOMAIN):
        return await self.h.iq(
            "<iq type='set' id='%s' from='%s' to='%s'>"
            "<register xmlns='urn:xmpp:mix:1'>%s</register></iq>"
            % (iqId, sender, to, body))

    def registered(self, response):
        self.assertResult(response)
        register = child(response, NS_MIX, "register")
        self.assertIsNot(None, register, response.toXml())
        return str(child(register, NS_MIX, "nick"))

    async def nickOf(self, bare, name="coven"):
        return (await self.h.store.getParticipant(name, bare)).nick

    def participantEvents(self):
        return sorted(
            (to, item["id"], str(child(child(item, NS_MIX, "participant"),
                                       NS_MIX, "nick")))
            for to, items in notifications(self.h.take(), NODE_PARTICIPANTS)
            for item in items.elements(NS_PUBSUB_EVENT, "item"))

    async def test_advertised(self):
        """
        DISCO-5, Listing 40: the service's disco#info lists
        urn:xmpp:mix:1#nick-register.
        """
        response = await self.h.iq(
            "<iq type='get' id='7nve413p' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, DOMAIN, NS_DISCO_INFO))
        features = [f["var"] for f in response.query.elements(
            NS_DISCO_INFO, "feature")]
        self.assertIn("urn:xmpp:mix:1#nick-register", features)

    async def test_register(self):
        """
        NICK-9, Listing 41/42: the result comes from the service to the
        full JID, same id, with the registered nick.
        """
        response = await self.register(HAG66_FULL, "<nick>thirdwitch</nick>")
        self.assertEqual(DOMAIN, response["from"])
        self.assertEqual(HAG66_FULL, response["to"])
        self.assertEqual("7nve413p", response["id"])
        self.assertEqual("thirdwitch", self.registered(response))
        self.assertEqual(("thirdwitch", "thirdwitch"),
                         await self.h.store.getRegisteredNick(HAG66))

    async def test_registerPrecis(self):
        """
        NICK-12: the nickname profile applies; the result gives the nick
        as issued.
        """
        self.assertEqual("Third Witch", self.registered(
            await self.register(HAG66_FULL, "<nick>  Third   Witch </nick>")))

    async def test_registerInvalidNick(self):
        """
        NICK-12: a nick the profile refuses, or longer than the limit, is
        C{not-acceptable}; nothing is registered.
        """
        self.assertError(
            await self.register(HAG66_FULL, "<nick>third\u200bwitch</nick>"),
            "modify", "not-acceptable")
        self.assertError(
            await self.register(HAG66_FULL, "<nick>%s</nick>" % ("w" * 65,)),
            "modify", "not-acceptable")
        self.assertIs(None, await self.h.store.getRegisteredNick(HAG66))

    async def test_registerLimitConfigurable(self):
        """
        NICK-12, limits: the nick length limit is the configured one.
        """
        self.makeSettings = lambda: serviceSettings(
            limits=Limits(maxNickLength=5))
        await self.setUp()
        self.assertEqual("witch", self.registered(
            await self.register(HAG66_FULL, "<nick>witch</nick>")))
        self.assertError(await self.register(CAT_FULL, "<nick>witchy</nick>"),
                         "modify", "not-acceptable")

    async def test_registerAssigned(self):
        """
        NICK-11: without C{<nick/>} (or with an empty one) the service
        assigns a UUID.
        """
        for body in ("", "<nick/>", "<nick>  </nick>"):
            nick = self.registered(await self.register(HAG66_FULL, body))
            self.assertEqual(4, uuid.UUID(nick).version)
            self.assertEqual(
                nick, (await self.h.store.getRegisteredNick(HAG66))[0])

    async def test_registerConflict(self):
        """
        NICK-10, NICK-14: a nick another JID registered (compared
        case-insensitively) is a C{conflict} (cancel).
        """
        self.registered(await self.register(
            HAG66_FULL, "<nick>thirdwitch</nick>"))
        response = await self.register(CAT_FULL, "<nick>ThirdWitch</nick>")
        self.assertError(response, "cancel", "conflict")
        self.assertIs(None, await self.h.store.getRegisteredNick(CAT))

    async def test_reregisterReplaces(self):
        """
        NICK-14: registering again replaces the JID's nick; the old one is
        free for others.
        """
        self.registered(await self.register(
            HAG66_FULL, "<nick>thirdwitch</nick>"))
        self.assertEqual("hag", self.registered(
            await self.register(HAG66_FULL, "<nick>hag</nick>")))
        self.assertEqual(
            "hag", (await self.h.store.getRegisteredNick(HAG66))[0])
        self.assertEqual("thirdwitch", self.registered(
            await self.register(CAT_FULL, "<nick>thirdwitch</nick>")))
        # The same JID may register its own nick again, in any spelling.
        self.assertEqual("HAG", self.registered(
            await self.register(HAG66_FULL, "<nick>HAG</nick>")))

    async def test_registerFromOtherResource(self):
        """
        NICK-9: registration is bound to the bare JID, whichever resource
        sends it.
        """
        self.registered(await self.register(
            HAG66_FULL, "<nick>thirdwitch</nick>"))
        self.assertEqual("thirdwitch", self.registered(await self.register(
            HAG66 + "/other", "<nick>thirdwitch</nick>")))

    async def test_registerAtChannel(self):
        """
        NICK-9: registration is a service request; at a channel JID it is
        C{service-unavailable}.
        """
        self.assertError(await self.register(HAG66_FULL, "<nick>x</nick>",
                                             to=COVEN),
                         "cancel", "service-unavailable")

    async def test_registerUpdatesChannels(self):
        """
        NICK-13, NICK-7, AMB-22: a registered nick is one of the nick sources
        (NICK-7); registering gives the registrant the nick in every
        channel it participates in, notifying the participants node.
        """
        self.registered(await self.register(
            HAG66_FULL, "<nick>thirdwitch</nick>"))
        self.assertEqual("thirdwitch", await self.nickOf(HAG66))
        self.assertEqual("thirdwitch", await self.nickOf(HAG66, "witches"))
        proxyCoven = self.proxies[HAG66, "coven"]
        proxyWitches = self.proxies[HAG66, "witches"]
        self.assertEqual(sorted([
            (HAG66, proxyCoven, "thirdwitch"),
            (CAT, proxyCoven, "thirdwitch"),
            (HAG66, proxyWitches, "thirdwitch")]), self.participantEvents())

    async def test_registerSkipsChannelsWhereTaken(self):
        """
        NICK-13, AMB-22: a channel where another participant took the nick
        meanwhile (between the registration's check and the channel
        update, a race) keeps the registrant's nick; the registration
        succeeds and the other channels are updated.
        """
        await self.h.setnick(HAG66_FULL, "hag")
        self.h.take()
        store = self.h.store
        register = store.registerNick

        async def racingRegister(bare, nick, key):
            cat = await store.getParticipant("coven", CAT)
            cat.nick, cat.nickKey = "thirdwitch", "thirdwitch"
            await store.saveParticipant(cat)
            return await register(bare, nick, key)
        self.patch(store, "registerNick", racingRegister)
        self.assertEqual("thirdwitch", self.registered(
            await self.register(HAG66_FULL, "<nick>thirdwitch</nick>")))
        self.assertEqual("hag", await self.nickOf(HAG66))
        self.assertEqual("thirdwitch", await self.nickOf(CAT))
        self.assertEqual("thirdwitch", await self.nickOf(HAG66, "witches"))
        self.assertEqual([(HAG66, self.proxies[HAG66, "witches"],
                           "thirdwitch")], self.participantEvents())

    async def test_registerNickUsedByOtherParticipant(self):
        """
        NICK-10, NICK-8: a nick another JID uses as a participant of some
        channel (compared case-insensitively) cannot be registered
        (C{conflict}, cancel); nothing is registered or renamed, and the
        holder keeps its nick and may set it again.
        """
        self.assertResult(await self.h.setnick(CAT_FULL, "thirdwitch"))
        await self.h.setnick(HAG66_FULL, "hag")
        self.h.take()
        for nick in ("thirdwitch", "ThirdWitch"):
            self.assertError(
                await self.register(HAG66_FULL, "<nick>%s</nick>" % (nick,)),
                "cancel", "conflict")
        self.assertIs(None, await self.h.store.getRegisteredNick(HAG66))
        self.assertEqual("hag", await self.nickOf(HAG66))
        self.assertIs(None, await self.nickOf(HAG66, "witches"))
        self.assertEqual([], self.participantEvents())
        self.assertResult(await self.h.setnick(CAT_FULL, "thirdwitch"))
        self.assertEqual("thirdwitch", await self.nickOf(CAT))

    async def test_registerNickUsedInOtherChannel(self):
        """
        NICK-10: the check covers every channel, not only those the
        registrant is in: hecate, in no channel, cannot register a nick cat
        uses in coven.
        """
        self.assertResult(await self.h.setnick(CAT_FULL, "thirdwitch"))
        self.assertError(
            await self.register(HECATE_FULL, "<nick>thirdwitch</nick>"),
            "cancel", "conflict")
        self.assertIs(None, await self.h.store.getRegisteredNick(HECATE))

    async def test_registerOwnChannelNick(self):
        """
        NICK-10, NICK-13: a user may register the nick it uses itself, in
        another spelling too; the nick is then given, as registered, in
        every channel it participates in where it is free.
        """
        self.assertResult(await self.h.join(CAT, "witches@" + DOMAIN))
        self.assertResult(await self.h.setnick(CAT_FULL, "thirdwitch"))
        self.h.take()
        self.assertEqual("ThirdWitch", self.registered(
            await self.register(CAT_FULL, "<nick>ThirdWitch</nick>")))
        self.assertEqual("ThirdWitch", await self.nickOf(CAT))
        self.assertEqual("ThirdWitch", await self.nickOf(CAT, "witches"))

    async def test_setnickCurrentNickRegisteredByOther(self):
        """
        NICK-8: a participant setting the nick it already has, spelled the
        same, succeeds without change or notification even if another
        user holds the registration (a state a race or older data can
        leave); another spelling is a change and is refused.
        """
        self.assertResult(await self.h.setnick(CAT_FULL, "thirdwitch"))
        await self.h.store.registerNick(
            HAG66, "thirdwitch", "thirdwitch")
        self.h.take()
        self.assertResult(await self.h.setnick(CAT_FULL, "thirdwitch"))
        self.assertEqual("thirdwitch", await self.nickOf(CAT))
        self.assertEqual([], self.participantEvents())
        self.assertError(await self.h.setnick(CAT_FULL, "ThirdWitch"),
                         "cancel", "conflict")
        self.assertEqual("thirdwitch", await self.nickOf(CAT))

    async def test_setnickOwnRegisteredNickNoop(self):
        """
        NICK-8, NICK-13: the registrant setting the registered nick it
        already has is a success without notification.
        """
        self.registered(await self.register(
            HAG66_FULL, "<nick>thirdwitch</nick>"))
        self.h.take()
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.assertEqual("thirdwitch", await self.nickOf(HAG66))
        self.assertEqual([], self.participantEvents())

    async def test_setnickRegisteredByOther(self):
        """
        NICK-8: a channel does not give a nick registered by one user to
        another participant (C{conflict}), in any case spelling; the
        registrant may use it.
        """
        self.registered(await self.register(
            HAG66_FULL, "<nick>thirdwitch</nick>"))
        await self.h.setnick(HAG66_FULL, "hag")
        self.h.take()
        for nick in ("thirdwitch", "ThirdWitch"):
            self.assertError(await self.h.setnick(CAT_FULL, nick),
                             "cancel", "conflict")
        self.assertIs(None, await self.nickOf(CAT))
        self.assertResult(await self.h.setnick(HAG66_FULL, "thirdwitch"))
        self.assertEqual("thirdwitch", await self.nickOf(HAG66))

    async def test_setnickRegisteredByNonParticipant(self):
        """
        NICK-8: a nick registered by a user who is in no channel is
        reserved too.
        """
        self.registered(await self.register(
            HECATE_FULL, "<nick>hecate</nick>"))
        self.assertError(await self.h.setnick(CAT_FULL, "Hecate"),
                         "cancel", "conflict")

    async def test_generatedNickSkipsRegistered(self):
        """
        NICK-8, NICK-4: a generated nick is never one registered by another
        user.
        """
        fixed = uuid.UUID("00000000-0000-4000-8000-000000000001")
        fresh = uuid.UUID("00000000-0000-4000-8000-000000000002")
        self.registered(await self.register(HECATE_FULL, "<nick>%s</nick>"
                                            % (fixed,)))
        generated = [fixed, fresh]
        real = uuid.uuid4
        self.patch(uuid, "uuid4",
                   lambda: generated.pop(0) if generated else real())
        response = await self.h.iq(
            "<iq type='set' id='n' from='%s' to='%s'><setnick xmlns="
            "'urn:xmpp:mix:1'/></iq>" % (CAT_FULL, COVEN))
        self.assertResult(response)
        self.assertEqual(str(fresh), await self.nickOf(CAT))


class RegistrationMemoryTests(MemoryStoreMixin, RegistrationTestsMixin,
                              unittest.TestCase):
    pass


class RegistrationPgsqlTests(PgsqlStoreMixin, RegistrationTestsMixin,
                             unittest.TestCase):
    pass
