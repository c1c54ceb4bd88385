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

    def setUp(self):
        MIXTestMixin.setUp(self)
        self.assertResult(self.h.create(form=RESTRICTED))
        self.setLists(allowed=(HAG66, HECATE))
        self.assertResult(self.h.join(
            HAG66, nodes=(NODE_MESSAGES, NODE_PARTICIPANTS, NODE_ALLOWED)))
        self.assertResult(self.h.join(HECATE))
        self.h.take()

    def setLists(self, name="coven", **lists):
        channel = self.successResultOf(self.h.store.getChannel(name))
        for key, value in lists.items():
            setattr(channel, key, value)
        self.successResultOf(self.h.store.updateChannel(channel))

    def setConfig(self, **config):
        channel = self.successResultOf(self.h.store.getChannel("coven"))
        for key, value in config.items():
            channel.config[key.replace("_", " ")] = value
        self.successResultOf(self.h.store.updateChannel(channel))

    def channel(self, name="coven"):
        return self.successResultOf(self.h.store.getChannel(name))

    def participant(self, bare, name="coven"):
        return self.successResultOf(self.h.store.getParticipant(name, bare))

    def invite(self, sender=HAG66_FULL, invitee=CAT, iqType="get",
               to=COVEN):
        return self.h.iq(
            "<iq type='%s' id='kl2fax27' from='%s' to='%s'>"
            "<invite xmlns='urn:xmpp:mix:1'><invitee>%s</invitee></invite>"
            "</iq>" % (iqType, sender, to, invitee))

    def invitation(self, **kwargs):
        """
        Request an invitation; return its fields as a dict.
        """
        response = self.invite(**kwargs)
        self.assertResult(response)
        invitation = child(child(response, NS_MIX, "invite"),
                           NS_MIX, "invitation")
        return {name: str(child(invitation, NS_MIX, name))
                for name in ("inviter", "invitee", "channel", "token")}

    def joinWith(self, invitation, user=CAT, to=COVEN):
        fields = "".join("<%s>%s</%s>" % (k, v, k)
                         for k, v in invitation.items())
        return self.h.join(user, to, extra="<invitation>%s</invitation>"
                           % (fields,))

    # Requesting invitations

    def test_inviteByOwner(self):
        """
        INV-1, Listing 57: an owner's get returns the invitation with the
        inviter's bare JID, the invitee, the channel JID and a token.
        """
        invitation = self.invitation()
        self.assertEqual(HAG66, invitation["inviter"])
        self.assertEqual(CAT, invitation["invitee"])
        self.assertEqual(COVEN, invitation["channel"])
        self.assertTrue(invitation["token"])

    def test_inviteSetAccepted(self):
        """
        INV-1, AMB-32: an C{invite} of type set is served like a get.
        """
        self.assertEqual(CAT, self.invitation(iqType="set")["invitee"])

    def test_inviteeFullJIDBare(self):
        """
        INV-1: the invitation names the invitee's bare JID.
        """
        self.assertEqual(CAT, self.invitation(invitee=CAT_FULL)["invitee"])

    def test_inviteByAdmin(self):
        """
        INV-2: an administrator may invite.
        """
        self.setConfig(Administrator=(HECATE,))
        self.assertEqual(HECATE,
                         self.invitation(sender=HECATE_FULL)["inviter"])

    def test_inviteByParticipantForbidden(self):
        """
        INV-2: a participant may not invite unless the channel lets
        participants invite (C{forbidden}).
        """
        self.assertError(self.invite(HECATE_FULL), "auth", "forbidden")

    def test_inviteByParticipantAllowed(self):
        """
        INV-2: with 'Participation Addition by Invitation from Participant'
        true, a participant may invite.
        """
        self.setConfig(**{
            "Participation Addition by Invitation from Participant": True})
        self.assertEqual(HECATE,
                         self.invitation(sender=HECATE_FULL)["inviter"])

    def test_inviteByNonParticipantForbidden(self):
        """
        INV-2: a non-participant may not invite even when participants
        may.
        """
        self.setConfig(**{
            "Participation Addition by Invitation from Participant": True})
        self.assertError(self.invite("other@shakespeare.example/r"),
                         "auth", "forbidden")

    def test_inviteMissingInvitee(self):
        """
        INV-1: an C{<invite/>} without (or with an empty or malformed)
        C{<invitee/>} is C{bad-request}.
        """
        response = self.h.iq(
            "<iq type='get' id='i' from='%s' to='%s'>"
            "<invite xmlns='urn:xmpp:mix:1'/></iq>" % (HAG66_FULL, COVEN))
        self.assertError(response, "modify", "bad-request")
        for bad in ("", "@@bad", "shakespeare.example"):
            self.assertError(self.invite(invitee=bad), "modify",
                             "bad-request")

    def test_inviteUnknownChannel(self):
        """
        INV-1: invitations to a channel that does not exist:
        C{item-not-found}.
        """
        self.assertError(self.invite(to="nowhere@" + DOMAIN),
                         "cancel", "item-not-found")

    # Joining with an invitation

    def test_joinWithoutInvitationForbidden(self):
        """
        JOIN-6: cat is not Allowed and cannot join without invitation.
        """
        self.assertError(self.h.join(CAT), "auth", "forbidden")

    def test_joinWithInvitation(self):
        """
        JOIN-12, INV-4, INV-5: a valid invitation admits cat, who is added
        to the allowed node; the allowed node's subscribers are notified
        of the new item.
        """
        invitation = self.invitation()
        self.h.take()
        self.assertResult(self.joinWith(invitation))
        self.assertIsNot(None, self.participant(CAT))
        self.assertEqual((HAG66, HECATE, CAT), self.channel().allowed)
        events = notifications(self.h.take(), NODE_ALLOWED)
        self.assertEqual(
            [(HAG66, [CAT])],
            [(to, [i["id"] for i in items.elements(NS_PUBSUB_EVENT, "item")])
             for to, items in events])

    def test_joinWithInvitationAlreadyListed(self):
        """
        INV-5: an invitee the allowed node already matches (here by domain)
        is not added again.
        """
        self.setLists(allowed=(HAG66, HECATE, "shakespeare.example"))
        invitation = self.invitation()
        self.h.take()
        self.assertResult(self.joinWith(invitation))
        self.assertEqual((HAG66, HECATE, "shakespeare.example"),
                         self.channel().allowed)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    def test_joinWithoutAllowedNode(self):
        """
        INV-5: without an allowed node nothing is added; the invitation
        still works for an ad hoc channel, which cat could not join
        otherwise (AMB-52).
        """
        response = self.h.iq(
            "<iq type='set' id='a' from='%s' to='%s'><create xmlns='%s'/>"
            "</iq>" % (HAG66_FULL, DOMAIN, NS_MIX))
        self.assertResult(response)
        name = child(response, NS_MIX, "create")["channel"]
        adhoc = name + "@" + DOMAIN
        self.assertError(self.h.join(CAT, adhoc), "auth", "forbidden")
        invitation = self.invitation(to=adhoc)
        self.assertEqual(adhoc, invitation["channel"])
        self.assertResult(self.joinWith(invitation, to=adhoc))
        self.assertIsNot(None, self.participant(CAT, name))
        self.assertEqual((), self.channel(name).allowed)

    def test_bannedBeatsInvitation(self):
        """
        INV-6, JOIN-6: a banned invitee stays out.
        """
        invitation = self.invitation()
        self.setLists(banned=(CAT,))
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, self.participant(CAT))
        self.assertNotIn(CAT, self.channel().allowed)

    def test_invalidInvitationAllowedUserIgnored(self):
        """
        INV-6: an invalid invitation from a user who is Allowed anyway is
        ignored: the join succeeds and the allowed node is unchanged.
        """
        invitation = self.invitation()
        invitation["token"] = "garbage"
        self.setLists(allowed=(HAG66, HECATE, CAT))
        self.assertResult(self.joinWith(invitation))
        self.assertEqual((HAG66, HECATE, CAT), self.channel().allowed)

    def test_invitationForSomebodyElse(self):
        """
        INV-4: the invitee must be the joining bare JID.
        """
        invitation = self.invitation()
        other = "other@shakespeare.example"
        self.assertError(self.joinWith(invitation, user=other),
                         "auth", "forbidden")
        self.assertIs(None, self.participant(other))

    def test_invitationExpires(self):
        """
        INV-3, INV-4, AMB-32: an invitation is valid for seven days.
        """
        invitation = self.invitation()
        self.h.clock.advance(WEEK - 1)
        self.assertResult(self.joinWith(invitation))
        self.assertResult(self.h.leave(CAT))
        self.setLists(allowed=(HAG66, HECATE))
        self.h.clock.advance(1)
        self.assertError(self.joinWith(invitation), "auth", "forbidden")

    def test_inviterNoLongerEntitled(self):
        """
        INV-4, AMB-32: the inviter's right is checked again at use: an
        administrator who lost the role no longer lets anybody in.
        """
        self.setConfig(Administrator=(HECATE,))
        invitation = self.invitation(sender=HECATE_FULL)
        self.setConfig(Administrator=())
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.setConfig(Administrator=(HECATE,))
        self.assertResult(self.joinWith(invitation))

    def test_invitationForAnotherChannel(self):
        """
        INV-4: an invitation for another channel does not open this one,
        whichever channel it claims.
        """
        self.assertResult(self.h.create("witches", form=RESTRICTED))
        self.setLists(name="witches", allowed=(HAG66,))
        invitation = self.invitation(to="witches@" + DOMAIN)
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        invitation["channel"] = COVEN
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, self.participant(CAT))

    def test_tamperedInvitee(self):
        """
        INV-3: changing the invitee breaks the token.
        """
        invitation = self.invitation()
        other = "other@shakespeare.example"
        invitation["invitee"] = other
        self.assertError(self.joinWith(invitation, user=other),
                         "auth", "forbidden")

    def test_tamperedInviter(self):
        """
        INV-3: changing the inviter breaks the token, even to another
        entitled inviter.
        """
        self.setConfig(Administrator=(HECATE,))
        invitation = self.invitation()
        invitation["inviter"] = HECATE
        self.assertError(self.joinWith(invitation), "auth", "forbidden")

    def test_tamperedExpiry(self):
        """
        INV-3: the expiry is covered by the MAC: a token whose expiry was
        pushed back is refused once the real one has passed.
        """
        invitation = self.invitation()
        raw = base64.urlsafe_b64decode(invitation["token"] + "==")
        self.assertEqual(40, len(raw))
        later = (int.from_bytes(raw[:8], "big") + WEEK).to_bytes(8, "big")
        invitation["token"] = base64.urlsafe_b64encode(
            later + raw[8:]).decode().rstrip("=")
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.h.clock.advance(WEEK + 1)
        self.assertError(self.joinWith(invitation), "auth", "forbidden")

    def test_tamperedSignature(self):
        """
        INV-3: a token with a changed MAC, a truncated token, or none at
        all is refused.
        """
        invitation = self.invitation()
        raw = bytearray(base64.urlsafe_b64decode(invitation["token"] + "=="))
        raw[-1] ^= 1
        for token in (base64.urlsafe_b64encode(bytes(raw)).decode(),
                      invitation["token"][:-4], ""):
            invitation["token"] = token
            self.assertError(self.joinWith(invitation), "auth", "forbidden")
        del invitation["token"]
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, self.participant(CAT))

    def test_tokenFromAnotherService(self):
        """
        INV-3: the key derives from the service secret: a service with
        another secret does not accept our tokens.
        """
        invitation = self.invitation()
        from mixtwisted.invitations import InvitationSigner
        signer = InvitationSigner("other secret", self.h.clock)
        forged = dict(invitation, token=signer.issue(
            COVEN, HAG66, CAT, self.channel().created))
        self.assertError(self.joinWith(forged), "auth", "forbidden")
        self.assertResult(self.joinWith(invitation))

    # Single use and channel incarnation (INV-3)

    def retract(self, bare=CAT):
        """
        An administrator takes C{bare} off the allowed list.
        """
        self.setLists(allowed=tuple(
            j for j in self.channel().allowed if j != bare))

    def test_replayAfterLeaveAndRetract(self):
        """
        INV-3, INV-4: an invitation is single-use: after cat joined with
        it, left and was taken off the allowed list, replaying the same
        invitation is refused (C{forbidden}) and does not put cat back on
        the allowed list.
        """
        invitation = self.invitation()
        self.assertResult(self.joinWith(invitation))
        self.assertResult(self.h.leave(CAT))
        self.retract()
        self.h.take()
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, self.participant(CAT))
        self.assertNotIn(CAT, self.channel().allowed)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    def test_replayRespeltRefused(self):
        """
        INV-3, INV-4: respelling the used token's last character (bits
        base64 decoding ignores) does not make it new again.
        """
        invitation = self.invitation()
        self.assertResult(self.joinWith(invitation))
        self.assertResult(self.h.leave(CAT))
        self.retract()
        alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_")
        token = invitation["token"]
        invitation["token"] = token[:-1] + alphabet[
            alphabet.index(token[-1]) ^ 1]
        self.assertError(self.joinWith(invitation), "auth", "forbidden")

    def test_usedRecordedInChannel(self):
        """
        INV-3: the join that consumes an invitation records it in the
        channel record (so the record survives restarts with any store),
        with the token's expiry; a fresh invitation still works.
        """
        self.assertEqual((), self.channel().usedInvitations)
        now = self.h.clock.seconds()
        first = self.invitation()
        self.assertResult(self.joinWith(first))
        used = self.channel().usedInvitations
        self.assertEqual(1, len(used))
        self.assertEqual(float(int(now) + WEEK), used[0][1])
        self.assertResult(self.h.leave(CAT))
        self.retract()
        self.h.clock.advance(1)
        second = self.invitation()
        self.assertNotEqual(first["token"], second["token"])
        self.assertResult(self.joinWith(second))
        self.assertIn(CAT, self.channel().allowed)
        self.assertEqual(2, len(self.channel().usedInvitations))

    def test_refusedJoinDoesNotConsume(self):
        """
        INV-3, INV-6: a join that fails (here: cat is banned) does not use
        up the invitation: nothing is recorded and, once unbanned, cat can
        still join with it.
        """
        invitation = self.invitation()
        self.setLists(banned=(CAT,))
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.assertEqual((), self.channel().usedInvitations)
        self.setLists(banned=())
        self.assertResult(self.joinWith(invitation))

    def test_allowedOnlyAfterParticipantSaved(self):
        """
        INV-5: the invitee is added to the allowed node only once it is
        saved as participant: a join whose participant cannot be saved
        leaves the allowed node and the used-token record alone.
        """
        from mixtwisted.errors import Conflict
        from twisted.internet import defer
        invitation = self.invitation()
        self.h.take()
        self.patch(self.h.store, "saveParticipant",
                   lambda record: defer.fail(Conflict("no")))
        self.joinWith(invitation)
        self.assertNotIn(CAT, self.channel().allowed)
        self.assertEqual((), self.channel().usedInvitations)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    def test_usedTokenOfAllowedUserIgnored(self):
        """
        INV-6, INV-3: a used invitation from a user who is Allowed anyway
        is ignored: cat, still on the allowed list after leaving, joins
        again; the allowed node is neither changed nor notified.
        """
        invitation = self.invitation()
        self.assertResult(self.joinWith(invitation))
        used = self.channel().usedInvitations
        self.assertResult(self.h.leave(CAT))
        self.h.take()
        self.assertResult(self.joinWith(invitation))
        self.assertIsNot(None, self.participant(CAT))
        self.assertEqual((HAG66, HECATE, CAT), self.channel().allowed)
        self.assertEqual(used, self.channel().usedInvitations)
        self.assertEqual([], notifications(self.h.take(), NODE_ALLOWED))

    def test_usedEntriesPruned(self):
        """
        INV-3: entries of used tokens are dropped once the tokens have
        expired (they would be refused anyway), at the next use.
        """
        start = int(self.h.clock.seconds())
        first = self.invitation()
        self.assertResult(self.joinWith(first))
        firstUsed = self.channel().usedInvitations
        self.assertEqual(1, len(firstUsed))
        self.assertResult(self.h.leave(CAT))
        self.retract()
        self.h.clock.advance(WEEK)
        # Expired: refused whether recorded or not, and still recorded.
        self.assertError(self.joinWith(first), "auth", "forbidden")
        self.assertEqual(firstUsed, self.channel().usedInvitations)
        second = self.invitation()
        self.assertResult(self.joinWith(second))
        used = self.channel().usedInvitations
        self.assertEqual(1, len(used))
        self.assertNotIn(firstUsed[0], used)
        self.assertEqual(float(start + 2 * WEEK), used[0][1])

    def test_recreatedChannelRefusesOldToken(self):
        """
        INV-3, INV-4: a token is bound to the channel's incarnation: after
        coven is destroyed and created again under the same name, an
        unused invitation issued for the old coven is refused, and a new
        one works.
        """
        invitation = self.invitation()
        self.assertResult(self.h.iq(
            "<iq type='set' id='d1' from='%s' to='%s'>"
            "<destroy xmlns='urn:xmpp:mix:1' channel='coven'/></iq>"
            % (HAG66_FULL, DOMAIN)))
        self.assertIs(None, self.successResultOf(
            self.h.store.getChannel("coven")))
        self.h.clock.advance(1)
        self.assertResult(self.h.create(form=RESTRICTED))
        self.setLists(allowed=(HAG66,))
        self.assertError(self.joinWith(invitation), "auth", "forbidden")
        self.assertIs(None, self.participant(CAT))
        self.assertNotIn(CAT, self.channel().allowed)
        self.assertResult(self.joinWith(self.invitation()))


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
