"""
Invitation tokens (INV-1..7): signed, bound to channel, inviter and
invitee, with an expiry.

A token (INV-3, AMB-32) is the base64url encoding (no padding) of the
expiry (8 bytes, big-endian seconds since the epoch) followed by an
HMAC-SHA256 over the channel JID, the inviter's and the invitee's bare JIDs,
the channel's creation time and the expiry.  The MAC key is derived from
the service secret, so tokens survive restarts; nothing in a token can be
changed without breaking the MAC.

The creation time binds a token to one incarnation of the channel: a
channel destroyed and created again under the same name refuses the old
tokens.  A token is single-use: the join that consumes it records its
L{tokenDigest} in the channel record (C{ChannelRecord.usedInvitations},
see L{mixtwisted.channels.ChannelService.join} and
L{Invitations.consumeInvitation}).

L{Invitations} is the invitation logic over the channels: who may invite,
issuing an invitation, checking and consuming the one a join carries.
"""

import base64
import re
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import InvalidFormat, JID

from mixtwisted import access
from mixtwisted import namespaces as ns
from mixtwisted import nodes as views
from mixtwisted.errors import BadRequest, Forbidden

#: How long an invitation is valid, in seconds (AMB-32: 7 days).
DEFAULT_LIFETIME = 7 * 24 * 3600

_KEY_LABEL = b"mixtwisted invitation key"
_MAC_SIZE = hashlib.sha256().digest_size


@dataclass(frozen=True)
class Invitation:
    """
    An invitation as issued or as received in a join (JIDs as strings).
    """
    inviter: str
    invitee: str
    channel: str
    token: str


def deriveKey(secret):
    """
    Derive the invitation MAC key from the service secret.  Without a
    secret, a random key: tokens then stop working at a restart rather than
    being forgeable by anybody who knows this code.
    """
    if not secret:
        return secrets.token_bytes(32)
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def formatCreated(created):
    """
    Format a channel creation time (a float) deterministically for the MAC:
    C{repr} of the float gives the shortest string that reads back as the
    same value, on every platform.
    """
    return repr(float(created))


def _message(channel, inviter, invitee, created, expiry):
    parts = [p.encode("utf-8") for p in (channel, inviter, invitee,
                                         formatCreated(created))]
    parts.append(struct.pack(">Q", expiry))
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def _b64encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"\A[A-Za-z0-9_-]+\Z")


def _b64decode(text):
    if not _B64URL.match(text):
        return None
    try:
        raw = text.encode("ascii")
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (UnicodeError, ValueError):
        return None


class InvitationSigner:
    """
    Issue and check invitation tokens.

    @param secret: the service secret (L{mixtwisted.settings.Settings}).
    @param clock: gives the time (C{seconds()}).
    @param lifetime: validity of a token, in seconds.
    """

    def __init__(self, secret, clock, lifetime=DEFAULT_LIFETIME):
        self._key = deriveKey(secret)
        self.clock = clock
        self.lifetime = lifetime

    def _mac(self, channel, inviter, invitee, created, expiry):
        return hmac.new(self._key, _message(channel, inviter, invitee,
                                            created, expiry),
                        hashlib.sha256).digest()

    def issue(self, channel, inviter, invitee, created):
        """
        Return a token for these bare JIDs, valid for C{lifetime} seconds.

        @param created: the channel's creation time
            (C{ChannelRecord.created}): the token is only good for this
            incarnation of the channel.
        """
        expiry = int(self.clock.seconds()) + self.lifetime
        mac = self._mac(channel, inviter, invitee, created, expiry)
        return _b64encode(struct.pack(">Q", expiry) + mac)

    def check(self, channel, inviter, invitee, token, created):
        """
        Check C{token} for these bare JIDs and this channel incarnation.

        @return: C{(digest, expiry)} when the token is authentic and has
            not expired: see L{tokenDigest}; else C{None}.
        """
        raw = _b64decode(token or "")
        if raw is None or len(raw) != 8 + _MAC_SIZE:
            return None
        expiry, = struct.unpack(">Q", raw[:8])
        expected = self._mac(channel, inviter, invitee, created, expiry)
        if not hmac.compare_digest(expected, raw[8:]):
            return None
        if self.clock.seconds() >= expiry:
            return None
        return tokenDigest(raw), float(expiry)

    def verify(self, channel, inviter, invitee, token, created):
        """
        Tell whether C{token} was issued for these bare JIDs and this
        channel incarnation and has not expired (whether or not it was
        used already: that is the channel's business).
        """
        return self.check(channel, inviter, invitee, token,
                          created) is not None


def tokenDigest(raw):
    """
    Identify a decoded token for the used-token record: the hex SHA-256 of
    its bytes.  Computed over the decoded bytes, not the text: base64 lets
    the last character of a token carry bits that decoding ignores, so
    several spellings decode to the same token.
    """
    return hashlib.sha256(raw).hexdigest()


def _bareJID(text):
    """
    Return the prepared bare JID of a user account written in C{text}, or
    C{None} when it is missing, malformed or names no user account.
    """
    if not text:
        return None
    try:
        jid = JID(text.strip())
    except (InvalidFormat, UnicodeError, ValueError):
        return None
    if not jid.user:
        return None
    return jid.userhost()


class Invitations:
    """
    Invitations over a L{mixtwisted.channels.ChannelService} (INV-1..7):
    who may invite, issuing an invitation, and checking and consuming the
    one a join carries (L{mixtwisted.channels.ChannelService.join} calls
    L{validInvitation}, L{isBanned} and L{consumeInvitation}).

    @ivar signer: the L{InvitationSigner} that issues and checks the
        tokens (INV-3), keyed from the service secret.
    """

    def __init__(self, channels):
        self.channels = channels
        #: Issues and checks invitation tokens (INV-3).
        self.signer = InvitationSigner(channels.settings.secret,
                                       channels.clock)

    @staticmethod
    def _mayInvite(channel, role):
        """
        INV-2: administrators and owners; participants when the channel
        lets them invite.
        """
        if role >= access.ADMIN:
            return True
        return role == access.PARTICIPANT and bool(channel.config.get(
            "Participation Addition by Invitation from Participant"))

    @defer.inlineCallbacks
    def invite(self, requester, name, invitee):
        """
        Issue an invitation for C{invitee} (INV-1..3).

        @param invitee: the invitee's JID as received.
        @return: an L{Invitation}.
        @raise BadRequest: for a missing or malformed invitee.
        @raise Forbidden: when the requester may not invite.
        """
        channel = yield self.channels.getChannel(name)
        inviteeBare = _bareJID(invitee)
        if inviteeBare is None:
            raise BadRequest("Missing or malformed invitee")
        role = yield self.channels.roleOf(channel, requester)
        if not self._mayInvite(channel, role):
            raise Forbidden("You may not invite to this channel")
        inviter = requester.userhost()
        channelJID = self.channels.channelJID(name)
        return Invitation(
            inviter=inviter, invitee=inviteeBare, channel=channelJID,
            token=self.signer.issue(channelJID, inviter, inviteeBare,
                                    channel.created))

    @defer.inlineCallbacks
    def validInvitation(self, channel, bare, invitation):
        """
        Tell whether an invitation lets C{bare} into C{channel} now (INV-4):
        the token is authentic and not expired, names this channel (this
        incarnation of it: its creation time is signed) and this invitee,
        was not used by an earlier join (INV-3), and the inviter may still
        invite (AMB-32).

        @return: C{(digest, expiry)} of the token for the used-token record
            when valid, else C{None}.
        """
        channelJID = _bareJID(invitation.channel)
        inviter = _bareJID(invitation.inviter)
        invitee = _bareJID(invitation.invitee)
        if None in (channelJID, inviter, invitee) or \
                channelJID != self.channels.channelJID(channel.name) or \
                invitee != bare:
            return None
        checked = self.signer.check(channelJID, inviter, invitee,
                                    invitation.token, channel.created)
        if checked is None or checked[0] in {
                digest for digest, _ in channel.usedInvitations}:
            return None
        role = yield self.channels.roleOf(channel, JID(inviter))
        return checked if self._mayInvite(channel, role) else None

    @staticmethod
    def isBanned(channel, bare, domain):
        return "banned" in channel.config.get("Nodes Present", ()) and \
            access.matchesList(bare, domain, channel.banned)

    @defer.inlineCallbacks
    def consumeInvitation(self, channel, bare, domain, used):
        """
        Record an invitation as used by a join, so that replaying it is
        refused (INV-3, INV-4), pruning the entries of expired tokens; add
        the invitee to the allowed node unless it matches already, and
        notify the node's subscribers (INV-5).

        The channel record is read again just before the update so that
        changes made while the join was under way are kept.

        @param used: C{(digest, expiry)} of the invitation.
        @return: the channel record as updated.
        """
        fresh = yield self.channels.store.getChannel(channel.name)
        if fresh is None or fresh.created != channel.created:
            # Destroyed (and maybe re-created) meanwhile: nothing to record.
            return channel
        now = self.channels.clock.seconds()
        fresh.usedInvitations = tuple(
            entry for entry in fresh.usedInvitations
            if entry[1] > now and entry[0] != used[0]) + (tuple(used),)
        added = "allowed" in fresh.config.get("Nodes Present", ()) and \
            not access.matchesList(bare, domain, fresh.allowed)
        if added:
            fresh.allowed = tuple(fresh.allowed) + (bare,)
        yield self.channels.store.updateChannel(fresh)
        if added:
            yield self.channels.notify(fresh, ns.NODE_ALLOWED,
                                       [views.NodeItem(bare)])
        return fresh
