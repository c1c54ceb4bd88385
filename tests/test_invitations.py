"""
Invitations (requirements.md §1.16 INV-1..7, JOIN-6, JOIN-12, AMB-32,
AMB-52; XEP-0369 §6.1.16), driven by literal XML.
"""

import base64

from twisted.trial import unittest

from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66, HAG66_FULL, HECATE, HECATE_FULL,
    MIXTestMixin, MemoryStoreMixin, NODE_ALLOWED, NODE_MESSAGES,
    NODE_PARTICIPANTS, NS_MIX, NS_PUBSUB_EVENT, child, notifications,
    submitForm)
from tests.pgsql import PgsqlStoreMixin

WEEK = 7 * 24 * 3600
RESTRICTED = submitForm(("Nodes Present", ["participants", "allowed",
                                           "banned"]),
                        ("Allowed Node Subscription", "participants"))


class InvitationTestsMixin(MIXTestMixin):
    """
    Channel C{coven} created by hag66 (owner), with allowed and banned
    nodes; the allowed node lists hag66 and hecate only.  hag66 and hecate
    have joined.
    """

    async def setUp(self):
        await MIXTestMixin.setUp(self)
        self.assertResult(await self.h.create(form=RESTRICTED))
        await self.setLists(allowed=(HAG66, HECATE))
        self.assertResult(await self.h.join(
            HAG66, nodes=(NODE_MESSAGES, NODE_PARTICIPANTS, NODE_ALLOWED)))
        self.assertResult(await self.h.join(HECATE))
        self.h.take()

    async def setLists(self, name="coven", **lists):
        channel = await self.h.store.getChannel(name)
        for key, value in lists.items():
            setattr(channel, key, value)
        await self.h.store.updateChannel(channel)

    async def setConfig(self, **config):
        channel = await self.h.store.getChannel("coven")
        for key, value in config.items():
            channel.config[key.replace("_", " ")] = value
        await self.h.store.updateChannel(channel)

    async def channel(self, name="coven"):
        return await self.h.store.getChannel(name)

    async def participant(self, bare, name="coven"):
        return await self.h.store.getParticipant(name, bare)

    async def invite(self, sender=HAG66_FULL, invitee=CAT, iqType="get",
                     to=COVEN):
        return await self.h.iq(
            "<iq type='%s' id='kl2fax27' from='%s' to='%s'>"
            "<invite xmlns='urn:xmpp:mix:1'><invitee>%s</invitee></invite>"
            "</iq>" % (iqType, sender, to, invitee))

    async def invitation(self, **kwargs):
        """
        Request an invitation; return its fields as a dict.
        """
        response = await self.invite(**kwargs)
        self.assertResult(response)
        invitation = child(child(response, NS_MIX, "invite"),
                           NS_MIX, "invitation")
        return {name: str(child(invitation, NS_MIX, name))
                for name in ("inviter", "invitee", "channel", "token")}

    async def joinWith(self, invitation, user=CAT, to=COVEN):
        fields = "".join("<%s>%s</%s>" % (k, v, k)
                         for k, v in invitation.items())
        return await self.h.join(user, to, extra="<invitation>%s</invitation>"
                                 % (fields,))

    # Requesting invitations

    async def test_inviteByOwner(self):
        """
        INV-1, Listing 57: an owner's get returns the invitation with the
        inviter's bare JID, the invitee, the channel JID and a token.
        """
        invitation = await self.invitation()
        self.assertEqual(HAG66, invitation["inviter"])
        self.assertEqual(CAT, invitation["invitee"])
        self.assertEqual(COVEN, invitation["channel"])
        self.assertTrue(invitation["token"])

    async def test_inviteSetAccepted(self):
        """
        INV-1, AMB-32: an C{invite} of type set is served like a get.
        """
        self.assertEqual(CAT, (await self.invitation(iqType="set"))["invitee"])

    async def test_inviteeFullJIDBare(self):
        """
        INV-1: the invitation names the invitee's bare JID.
        """
        self.assertEqual(
            CAT, (await self.invitation(invitee=CAT_FULL))["invitee"])

    async def test_inviteByAdmin(self):
        """
        INV-2: an administrator may invite.
        """
        await self.setConfig(Administrator=(HECATE,))
        self.assertEqual(
            HECATE, (await self.invitation(sender=HECATE_FULL))["inviter"])

    async def test_inviteByParticipantForbidden(self):
        """
        INV-2: a participant may not invite unless the channel lets
        participants invite (C{forbidden}).
        """
        self.assertError(await self.invite(HECATE_FULL), "auth", "forbidden")

    async def test_inviteByParticipantAllowed(self):
        """
        INV-2: with 'Participation Addition by Invitation from Participant'
        true, a participant may invite.
        """
        await self.setConfig(**{
            "Participation Addition by Invitation from Participant": True})
        self.assertEqual(
            HECATE, (await self.invitation(sender=HECATE_FULL))["inviter"])

    async def test_inviteByNonParticipantForbidden(self):
        """
        INV-2: a non-participant may not invite even when participants
        may.
        """
        await self.setConfig(**{
            "Participation Addition by Invitation from Participant": True})
        self.assertError(await self.invite("other@shakespeare.example/r"),
                         "auth", "forbidden")

    async def test_inviteMissingInvitee(self):
        """
        INV-1: an C{<invite/>} without (or with an empty or malformed)
        C{<invitee/>} is C{bad-request}.
        """
        response = await self.h.iq(
            "<iq type='get' id='i' from='%s' to='%s'>"
            "<invite xmlns='urn:xmpp:mix:1'/></iq>" % (HAG66_FULL, COVEN))
        self.assertError(response, "modify", "bad-request")
        for bad in ("", "@@bad", "shakespeare.example"):
            self.assertError(await self.invite(invitee=bad), "modify",
                             "bad-request")

    async def test_inviteUnknownChannel(self):
        """
        INV-1: invitations to a channel that does not exist:
        C{item-not-found}.
        """
        self.assertError(await self.invite(to="nowhere@" + DOMAIN),
                         "cancel", "item-not-found")

    # Joining with an invitation

    async def test_joinWithoutInvitationForbidden(self):
        """
        JOIN-6: cat is not Allowed and cannot join without invitation.
        """
        self.assertError(await self.h.join(CAT), "auth", "forbidden")

    async def test_joinWithInvitation(self):
        """
        JOIN-12, INV-4, INV-5: a valid invitation admits cat, who is added
        to the allowed node; the allowed node's subscribers are notified
        of the new item.
        """
        invitation = await self.invitation()
        self.h.take()
        self.assertResult(await self.joinWith(invitation))
        self.assertIsNot(None, await self.participant(CAT))
        self.assertEqual((HAG66, HECATE, CAT), (await self.channel()).allowed)
        events = notifications(self.h.take(), NODE_ALLOWED)
        self.assertEqual(
            [(HAG66, [CAT])],
            [(to, [i["id"] for i in items.elements(NS_PUBSUB_EVENT, "item")])
             for to, items in events])

    async def test_joinWithInvitationAlreadyListed(self):
        """
        INV-5: an invitee the allowed node already matches (here by domain)
        is not added again.
        """
        await self.setLists(allowed=(HAG66, HECATE, "shakespeare.example"))
        invitation = await self.invitation()
        self.h.take()
        self.assertResult(await self.joinWith(invitation))
        self.assertEqual((HAG66, HECATE, "shakespeare.example"),
                         (await self.channel()).allowed)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    async def test_joinWithoutAllowedNode(self):
        """
        INV-5: without an allowed node nothing is added; the invitation
        still works for an ad hoc channel, which cat could not join
        otherwise (AMB-52).
        """
        response = await self.h.iq(
            "<iq type='set' id='a' from='%s' to='%s'><create xmlns='%s'/>"
            "</iq>" % (HAG66_FULL, DOMAIN, NS_MIX))
        self.assertResult(response)
        name = child(response, NS_MIX, "create")["channel"]
        adhoc = name + "@" + DOMAIN
        self.assertError(await self.h.join(CAT, adhoc), "auth", "forbidden")
        invitation = await self.invitation(to=adhoc)
        self.assertEqual(adhoc, invitation["channel"])
        self.assertResult(await self.joinWith(invitation, to=adhoc))
        self.assertIsNot(None, await self.participant(CAT, name))
        self.assertEqual((), (await self.channel(name)).allowed)

    async def test_bannedBeatsInvitation(self):
        """
        INV-6, JOIN-6: a banned invitee stays out.
        """
        invitation = await self.invitation()
        await self.setLists(banned=(CAT,))
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, await self.participant(CAT))
        self.assertNotIn(CAT, (await self.channel()).allowed)

    async def test_invalidInvitationAllowedUserIgnored(self):
        """
        INV-6: an invalid invitation from a user who is Allowed anyway is
        ignored: the join succeeds and the allowed node is unchanged.
        """
        invitation = await self.invitation()
        invitation["token"] = "garbage"
        await self.setLists(allowed=(HAG66, HECATE, CAT))
        self.assertResult(await self.joinWith(invitation))
        self.assertEqual((HAG66, HECATE, CAT), (await self.channel()).allowed)

    async def test_invitationForSomebodyElse(self):
        """
        INV-4: the invitee must be the joining bare JID.
        """
        invitation = await self.invitation()
        other = "other@shakespeare.example"
        self.assertError(await self.joinWith(invitation, user=other),
                         "auth", "forbidden")
        self.assertIs(None, await self.participant(other))

    async def test_invitationExpires(self):
        """
        INV-3, INV-4, AMB-32: an invitation is valid for seven days.
        """
        invitation = await self.invitation()
        await self.h.advance(WEEK - 1)
        self.assertResult(await self.joinWith(invitation))
        self.assertResult(await self.h.leave(CAT))
        await self.setLists(allowed=(HAG66, HECATE))
        await self.h.advance(1)
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")

    async def test_inviterNoLongerEntitled(self):
        """
        INV-4, AMB-32: the inviter's right is checked again at use: an
        administrator who lost the role no longer lets anybody in.
        """
        await self.setConfig(Administrator=(HECATE,))
        invitation = await self.invitation(sender=HECATE_FULL)
        await self.setConfig(Administrator=())
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        await self.setConfig(Administrator=(HECATE,))
        self.assertResult(await self.joinWith(invitation))

    async def test_invitationForAnotherChannel(self):
        """
        INV-4: an invitation for another channel does not open this one,
        whichever channel it claims.
        """
        self.assertResult(await self.h.create("witches", form=RESTRICTED))
        await self.setLists(name="witches", allowed=(HAG66,))
        invitation = await self.invitation(to="witches@" + DOMAIN)
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        invitation["channel"] = COVEN
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, await self.participant(CAT))

    async def test_tamperedInvitee(self):
        """
        INV-3: changing the invitee breaks the token.
        """
        invitation = await self.invitation()
        other = "other@shakespeare.example"
        invitation["invitee"] = other
        self.assertError(await self.joinWith(invitation, user=other),
                         "auth", "forbidden")

    async def test_tamperedInviter(self):
        """
        INV-3: changing the inviter breaks the token, even to another
        entitled inviter.
        """
        await self.setConfig(Administrator=(HECATE,))
        invitation = await self.invitation()
        invitation["inviter"] = HECATE
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")

    async def test_tamperedExpiry(self):
        """
        INV-3: the expiry is covered by the MAC: a token whose expiry was
        pushed back is refused once the real one has passed.
        """
        invitation = await self.invitation()
        raw = base64.urlsafe_b64decode(invitation["token"] + "==")
        self.assertEqual(40, len(raw))
        later = (int.from_bytes(raw[:8], "big") + WEEK).to_bytes(8, "big")
        invitation["token"] = base64.urlsafe_b64encode(
            later + raw[8:]).decode().rstrip("=")
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        await self.h.advance(WEEK + 1)
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")

    async def test_tamperedSignature(self):
        """
        INV-3: a token with a changed MAC, a truncated token, or none at
        all is refused.
        """
        invitation = await self.invitation()
        raw = bytearray(base64.urlsafe_b64decode(invitation["token"] + "=="))
        raw[-1] ^= 1
        for token in (base64.urlsafe_b64encode(bytes(raw)).decode(),
                      invitation["token"][:-4], ""):
            invitation["token"] = token
            self.assertError(await self.joinWith(invitation),
                             "auth", "forbidden")
        del invitation["token"]
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, await self.participant(CAT))

    async def test_tokenFromAnotherService(self):
        """
        INV-3: the key derives from the service secret: a service with
        another secret does not accept our tokens.
        """
        invitation = await self.invitation()
        from mixtwisted.invitations import InvitationSigner
        signer = InvitationSigner("other secret", self.h.clock)
        forged = dict(invitation, token=signer.issue(
            COVEN, HAG66, CAT, (await self.channel()).created))
        self.assertError(await self.joinWith(forged), "auth", "forbidden")
        self.assertResult(await self.joinWith(invitation))

    # Single use and channel incarnation (INV-3)

    async def retract(self, bare=CAT):
        """
        An administrator takes C{bare} off the allowed list.
        """
        await self.setLists(allowed=tuple(
            j for j in (await self.channel()).allowed if j != bare))

    async def test_replayAfterLeaveAndRetract(self):
        """
        INV-3, INV-4: an invitation is single-use: after cat joined with
        it, left and was taken off the allowed list, replaying the same
        invitation is refused (C{forbidden}) and does not put cat back on
        the allowed list.
        """
        invitation = await self.invitation()
        self.assertResult(await self.joinWith(invitation))
        self.assertResult(await self.h.leave(CAT))
        await self.retract()
        self.h.take()
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, await self.participant(CAT))
        self.assertNotIn(CAT, (await self.channel()).allowed)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    async def test_replayRespeltRefused(self):
        """
        INV-3, INV-4: respelling the used token's last character (bits
        base64 decoding ignores) does not make it new again.
        """
        invitation = await self.invitation()
        self.assertResult(await self.joinWith(invitation))
        self.assertResult(await self.h.leave(CAT))
        await self.retract()
        alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_")
        token = invitation["token"]
        invitation["token"] = token[:-1] + alphabet[
            alphabet.index(token[-1]) ^ 1]
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")

    async def test_usedRecordedInChannel(self):
        """
        INV-3: the join that consumes an invitation records it in the
        channel record (so the record survives restarts with any store),
        with the token's expiry; a fresh invitation still works.
        """
        self.assertEqual((), (await self.channel()).usedInvitations)
        now = self.h.clock.seconds()
        first = await self.invitation()
        self.assertResult(await self.joinWith(first))
        used = (await self.channel()).usedInvitations
        self.assertEqual(1, len(used))
        self.assertEqual(float(int(now) + WEEK), used[0][1])
        self.assertResult(await self.h.leave(CAT))
        await self.retract()
        await self.h.advance(1)
        second = await self.invitation()
        self.assertNotEqual(first["token"], second["token"])
        self.assertResult(await self.joinWith(second))
        self.assertIn(CAT, (await self.channel()).allowed)
        self.assertEqual(2, len((await self.channel()).usedInvitations))

    async def test_refusedJoinDoesNotConsume(self):
        """
        INV-3, INV-6: a join that fails (here: cat is banned) does not use
        up the invitation: nothing is recorded and, once unbanned, cat can
        still join with it.
        """
        invitation = await self.invitation()
        await self.setLists(banned=(CAT,))
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        self.assertEqual((), (await self.channel()).usedInvitations)
        await self.setLists(banned=())
        self.assertResult(await self.joinWith(invitation))

    async def test_allowedOnlyAfterParticipantSaved(self):
        """
        INV-5: the invitee is added to the allowed node only once it is
        saved as participant: a join whose participant cannot be saved
        leaves the allowed node and the used-token record alone.
        """
        from mixtwisted.errors import Conflict
        from twisted.internet import defer
        invitation = await self.invitation()
        self.h.take()
        self.patch(self.h.store, "saveParticipant",
                   lambda record: defer.fail(Conflict("no")))
        await self.joinWith(invitation)
        self.assertNotIn(CAT, (await self.channel()).allowed)
        self.assertEqual((), (await self.channel()).usedInvitations)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    async def test_usedTokenOfAllowedUserIgnored(self):
        """
        INV-6, INV-3: a used invitation from a user who is Allowed anyway
        is ignored: cat, still on the allowed list after leaving, joins
        again; the allowed node is neither changed nor notified.
        """
        invitation = await self.invitation()
        self.assertResult(await self.joinWith(invitation))
        used = (await self.channel()).usedInvitations
        self.assertResult(await self.h.leave(CAT))
        self.h.take()
        self.assertResult(await self.joinWith(invitation))
        self.assertIsNot(None, await self.participant(CAT))
        self.assertEqual((HAG66, HECATE, CAT), (await self.channel()).allowed)
        self.assertEqual(used, (await self.channel()).usedInvitations)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    async def test_usedEntriesPruned(self):
        """
        INV-3: entries of used tokens are dropped once the tokens have
        expired (they would be refused anyway), at the next use.
        """
        start = int(self.h.clock.seconds())
        first = await self.invitation()
        self.assertResult(await self.joinWith(first))
        firstUsed = (await self.channel()).usedInvitations
        self.assertEqual(1, len(firstUsed))
        self.assertResult(await self.h.leave(CAT))
        await self.retract()
        await self.h.advance(WEEK)
        # Expired: refused whether recorded or not, and still recorded.
        self.assertError(await self.joinWith(first), "auth", "forbidden")
        self.assertEqual(firstUsed, (await self.channel()).usedInvitations)
        second = await self.invitation()
        self.assertResult(await self.joinWith(second))
        used = (await self.channel()).usedInvitations
        self.assertEqual(1, len(used))
        self.assertNotIn(firstUsed[0], used)
        self.assertEqual(float(start + 2 * WEEK), used[0][1])

    async def test_recreatedChannelRefusesOldToken(self):
        """
        INV-3, INV-4: a token is bound to the channel's incarnation: after
        coven is destroyed and created again under the same name, an
        unused invitation issued for the old coven is refused, and a new
        one works.
        """
        invitation = await self.invitation()
        self.assertResult(await self.h.iq(
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='urn:xmpp:mix:1' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN)))
        self.assertIs(None, await self.h.store.getChannel("coven"))
        await self.h.advance(1)
        self.assertResult(await self.h.create(form=RESTRICTED))
        await self.setLists(allowed=(HAG66,))
        self.assertError(await self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, await self.participant(CAT))
        self.assertNotIn(CAT, (await self.channel()).allowed)
        self.assertResult(await self.joinWith(await self.invitation()))


class SignerTests(unittest.TestCase):
    """
    INV-3: the token signer on its own.
    """

    def test_noSecretNoSharedKey(self):
        """
        INV-3: without a service secret the key is random, so a token is
        not forgeable from the code alone.
        """
        from twisted.internet.task import Clock
        from mixtwisted.invitations import InvitationSigner
        clock = Clock()
        one, two = InvitationSigner("", clock), InvitationSigner("", clock)
        token = one.issue(COVEN, HAG66, CAT, 0.0)
        self.assertTrue(one.verify(COVEN, HAG66, CAT, token, 0.0))
        self.assertFalse(two.verify(COVEN, HAG66, CAT, token, 0.0))

    def test_sameSecretSharedKey(self):
        """
        INV-3: with the same secret, tokens survive a restart.
        """
        from twisted.internet.task import Clock
        from mixtwisted.invitations import InvitationSigner
        clock = Clock()
        token = InvitationSigner("s", clock).issue(COVEN, HAG66, CAT, 5.25)
        self.assertTrue(InvitationSigner("s", clock).verify(
            COVEN, HAG66, CAT, token, 5.25))
        self.assertFalse(InvitationSigner("s", clock).verify(
            COVEN, HAG66, CAT, token + "A", 5.25))

    def test_boundToChannelIncarnation(self):
        """
        INV-3: the channel's creation time is signed: a token checked
        against another creation time, even one a microsecond apart, is
        refused.
        """
        from twisted.internet.task import Clock
        from mixtwisted.invitations import InvitationSigner
        signer = InvitationSigner("s", Clock())
        created = 1700000000.123456
        token = signer.issue(COVEN, HAG66, CAT, created)
        self.assertTrue(signer.verify(COVEN, HAG66, CAT, token, created))
        for other in (0.0, created + 1e-6, 1700000001.123456):
            self.assertFalse(signer.verify(COVEN, HAG66, CAT, token, other))

    def test_digestIgnoresSpelling(self):
        """
        INV-3: the used-token digest is of the decoded token: spellings of
        one token that decode alike (base64 ignores the last character's
        low bits) have the same digest, so a replay cannot dodge the
        used-token record by respelling.
        """
        from twisted.internet.task import Clock
        from mixtwisted.invitations import InvitationSigner
        signer = InvitationSigner("s", Clock())
        token = signer.issue(COVEN, HAG66, CAT, 0.0)
        alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_")
        last = alphabet.index(token[-1])
        respelt = token[:-1] + alphabet[last ^ 1]
        self.assertNotEqual(token, respelt)
        first = signer.check(COVEN, HAG66, CAT, token, 0.0)
        self.assertIsNot(None, first)
        self.assertEqual(first, signer.check(COVEN, HAG66, CAT, respelt, 0.0))


class InvitationMemoryTests(MemoryStoreMixin, InvitationTestsMixin,
                            unittest.TestCase):
    pass


class InvitationPgsqlTests(PgsqlStoreMixin, InvitationTestsMixin,
                           unittest.TestCase):
    pass
