"""
One channel, users of two servers (issue 6's acceptance check): a slixmpp
client on Prosody and one on ejabberd exchange messages in one channel and
each sees the other's presence.

Both servers run in the test, linked server to server (s2s) on loopback.
Prosody hosts C{prosody.localhost}, ejabberd C{ejabberd.localhost}; the
real C{twistd mix} is attached to one of them as its component
(C{mix.prosody.localhost} in L{ProsodyHostsChannelTests},
C{mix.ejabberd.localhost} in L{EjabberdHostsChannelTests}), and the user
of the other server reaches the channel over s2s.  The servers find each
other through a DNS server run by the test (L{tests.e2e.names.LoopbackDNS}:
SRV records for the four domains, on a free UDP port; see C{servers.py}
for how each server is pointed at it) and authenticate each other with
dialback, without TLS.  Every stanza between the remote user and the
channel crosses the s2s links: its join, nick, presence, messages and MAM
query one way, the channel's answers, presence, PubSub notifications,
reflected messages and MAM results the other way.

The service runs with its default C{--delivery auto} (doc/interop.md): it
asks each user domain for its disco#info, the remote one over s2s;
neither server advertises MIX-PAM on its domain, so the service sends the
channel's messages and presence to the full JIDs of the clients online in
the channel, which both servers deliver (a groupchat message to a bare
JID is bounced by both, see their C{test_bareJIDBounced}).  The test
checks that the copies came to the full JIDs.
"""

import os
import secrets

from twisted.internet import defer
from twisted.trial import unittest

from tests.e2e import clients
from tests.e2e.base import (
    NS_MIX_PRESENCE, EndToEndCase, directedPresence, groupchat, mixChild,
    presenceFrom, reflectedBy, scenario)
from tests.e2e.clients import Client
from tests.e2e.names import LoopbackDNS
from tests.e2e.servers import Ejabberd, Prosody
from tests.e2e.service import MixComponent
from tests.helpers import (
    NS_CLIENT, NS_DISCO_INFO, NS_FORWARD, NS_MAM2, NS_SID, child)


class InterdomainCase(EndToEndCase):
    """
    Two servers linked by s2s, the service attached to the first
    (L{serverClass}), one user on each.

    L{EndToEndCase}'s helpers work on L{server}, the server the service is
    attached to.

    @cvar otherServerClass: the server of the remote user.
    """

    serverClass = None
    otherServerClass = None

    def setUp(self):
        for serverClass in (self.serverClass, self.otherServerClass):
            reason = serverClass.s2sSkipReason()
            if reason is not None:
                raise unittest.SkipTest(reason)
        reason = clients.skipReason()
        if reason is not None:
            raise unittest.SkipTest(reason)
        self.workdir = os.path.abspath(self.mktemp())
        os.makedirs(self.workdir)
        self.dns = None
        self.server = None
        self.otherServer = None
        self.mix = None
        self.clients = []

    def describe(self):
        parts = ["Outputs of this test are in %s" % (self.workdir,)]
        for part in [self.server, self.otherServer, self.mix] + self.clients:
            if part is not None:
                parts.append(part.describe())
        if self.dns is not None:
            parts.append(self.dns.describe())
        return "\n".join(parts)

    @defer.inlineCallbacks
    def start(self, users=("hag66", "hecate")):
        """
        Start the DNS, both servers (the first user on L{serverClass},
        the second on L{otherServerClass}), C{twistd mix} attached to the
        first, and the clients.

        @return: a Deferred firing with the clients: the local user, the
            remote user.
        """
        self.dns = LoopbackDNS().start()
        self.addCleanup(self.dns.stop)
        self.server = self.serverClass(
            os.path.join(self.workdir, self.serverClass.name),
            "%s.localhost" % (self.serverClass.name,), dns=self.dns)
        self.otherServer = self.otherServerClass(
            os.path.join(self.workdir, self.otherServerClass.name),
            "%s.localhost" % (self.otherServerClass.name,), dns=self.dns)
        self.addCleanup(self.server.stop)
        self.addCleanup(self.otherServer.stop)
        local, remote = users
        passwords = {user: secrets.token_hex(8) for user in users}
        yield defer.gatherResults([
            self.server.start({local: passwords[local]}),
            self.otherServer.start({remote: passwords[remote]})],
            consumeErrors=True).addErrback(lambda f: f.value.subFailure)
        self.mix = MixComponent(
            self.server, os.path.join(self.workdir, "mix"), *self.mixArgs)
        self.addCleanup(self.mix.stop)
        yield self.mix.start()
        for user, server in ((local, self.server),
                             (remote, self.otherServer)):
            client = Client(user, passwords[user], server,
                            os.path.join(self.workdir, "clients"))
            self.clients.append(client)
            self.addCleanup(client.stop)
        yield defer.gatherResults([c.connect() for c in self.clients],
                                  consumeErrors=True).addErrback(
                                      lambda f: f.value.subFailure)
        return list(self.clients)

    @defer.inlineCallbacks
    def exchange(self, sender, receiver, proxies, stanzaID, body):
        """
        C{sender} sends a groupchat message to the channel; wait until
        C{receiver}'s client gets the channel's copy and C{sender}'s its
        own, and check both.

        @return: a Deferred firing with the archive id.
        """
        channel = self.channel()
        mark = self.mix.mark()
        seen = (len(sender.received), len(receiver.received))
        yield sender.send(groupchat(channel, stanzaID, body))
        theirs = yield self.delivered(
            receiver, reflectedBy(channel),
            "the channel's copy of %s" % (stanzaID,), seen[1], mark)
        self.assertEqual(receiver.fullJID, theirs.getAttribute("to"))
        self.assertEqual(body, str(child(theirs, NS_CLIENT, "body")))
        self.assertEqual(sender.jid.split("@")[0], mixChild(theirs, "nick"))
        self.assertEqual(proxies[sender], mixChild(theirs, "jid"))
        self.assertIsNone(mixChild(theirs, "submission-id"))
        stanzaIDElement = child(theirs, NS_SID, "stanza-id")
        self.assertEqual(theirs.getAttribute("id"),
                         stanzaIDElement.getAttribute("id"))

        own = yield self.delivered(
            sender, reflectedBy(channel),
            "the sender's copy of %s" % (stanzaID,), seen[0], mark)
        self.assertEqual(sender.fullJID, own.getAttribute("to"))
        self.assertEqual(stanzaID, mixChild(own, "submission-id"))
        self.assertEqual(theirs.getAttribute("id"), own.getAttribute("id"))
        return theirs.getAttribute("id")

    @defer.inlineCallbacks
    def archive(self, client):
        """
        The channel's archive as C{client} reads it (slixmpp's MAM
        iterator, pages of one).

        @return: a Deferred firing with C{(archive id, body, nick, proxy
            JID)} of each archived message, in order.
        """
        results = yield client.mam(self.channel(), pageSize=1)
        archived = []
        for result in results:
            mamResult = child(result, NS_MAM2, "result")
            forwarded = child(mamResult, NS_FORWARD, "forwarded")
            message = child(forwarded, NS_CLIENT, "message")
            self.assertEqual("groupchat", message.getAttribute("type"))
            self.assertEqual(self.channel(), message.getAttribute("from"))
            archived.append((mamResult.getAttribute("id"),
                             str(child(message, NS_CLIENT, "body")),
                             mixChild(message, "nick"),
                             mixChild(message, "jid")))
        return archived


class InterdomainScenarios:
    """
    The scenario run with the service on either server, mixed into an
    L{InterdomainCase}.
    """

    @scenario
    def test_channelAcrossServers(self):
        """
        hag66 (on the service's server) creates the channel; hag66 and
        hecate (on the other server, over s2s) join it straight from their
        clients, set their nicks and send presence to it, and each
        receives the other's presence.  hag66's message reaches hecate's
        client and hecate's reaches hag66's, each at its full JID, from
        the channel, with the sender's nick and proxy JID, and each sender
        gets its own copy with its submission-id.  Both read the channel's
        archive through their own server (hecate's query and its results
        over s2s) and find both messages, in order, with the archive ids
        they were delivered with.  The presence each received came to its
        full JID, from the other's full proxy JID, with the MIX-PRESENCE
        nick.  The service asked hecate's domain for its disco#info
        (C{--delivery auto}) over s2s and got the answer.  hecate's
        unavailable presence reaches hag66.
        """
        hag66, hecate = yield self.start()
        self.assertEqual(self.server.domain, hag66.jid.split("@")[1])
        self.assertEqual(self.otherServer.domain, hecate.jid.split("@")[1])
        self.assertNotEqual(self.server.domain, self.otherServer.domain)
        proxies = yield self.joinAndAppear(hag66, hecate)

        first = yield self.exchange(hag66, hecate, proxies, "m1",
                                    "Fair is foul")
        second = yield self.exchange(hecate, hag66, proxies, "m2",
                                     "and foul is fair")

        expected = [(first, "Fair is foul", "hag66", proxies[hag66]),
                    (second, "and foul is fair", "hecate", proxies[hecate])]
        for client in (hag66, hecate):
            archived = yield self.archive(client)
            self.assertEqual(expected, archived,
                             "the archive as %s reads it" % (client.jid,))

        # Each saw the other's presence (joinAndAppear waited for it), at
        # its full JID, with the other's nick.
        for receiver, sender in ((hag66, hecate), (hecate, hag66)):
            available = [s for s in receiver.received
                         if presenceFrom(proxies[sender])(s)][-1]
            self.assertEqual(receiver.fullJID, available.getAttribute("to"))
            nick = child(child(available, NS_MIX_PRESENCE, "mix"),
                         NS_MIX_PRESENCE, "nick")
            self.assertEqual(sender.jid.split("@")[0], str(nick))

        # --delivery auto asked the remote domain over s2s, and got its
        # answer.
        remote = self.otherServer.domain
        asked = yield self.mix.waitForStanza(
            "SEND", "iq", "the service's disco#info to %s" % (remote,),
            since=0, type_="get", to=remote)
        self.assertIn(NS_DISCO_INFO, asked)
        yield self.mix.waitForStanza(
            "RECV", "iq", "%s's disco#info result" % (remote,),
            since=0, type_="result", from_=remote)

        seen = len(hag66.received)
        yield hecate.send(directedPresence(self.channel(), "unavailable"))
        yield hag66.waitForStanza(
            presenceFrom(proxies[hecate], "unavailable"),
            "hecate's unavailable presence", since=seen)


class ProsodyHostsChannelTests(InterdomainScenarios, InterdomainCase):
    """
    The service attached to Prosody (C{mix.prosody.localhost}); hag66 on
    Prosody, hecate on ejabberd.
    """

    serverClass = Prosody
    otherServerClass = Ejabberd


class EjabberdHostsChannelTests(InterdomainScenarios, InterdomainCase):
    """
    The service attached to ejabberd (C{mix.ejabberd.localhost}); hag66 on
    ejabberd, hecate on Prosody.
    """

    serverClass = Ejabberd
    otherServerClass = Prosody
