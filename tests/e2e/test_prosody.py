"""
End to end through Prosody 0.12 (Debian's C{prosody}): users on
C{prosody.localhost}, mixtwisted attached as the component
C{mix.prosody.localhost}, slixmpp clients.

Prosody has no MIX support for its users (no MIX-PAM): joins and every
other IQ go from the client straight to the channel; PubSub notifications
and presence, which the channel addresses to the user's bare JID, are
delivered by RFC 6121's rules; groupchat messages to a bare JID are bounced
(RFC 6121 section 8.5.2.1.1), so the service sends them to the full JIDs of
the clients online in the channel (C{--delivery auto}, doc/interop.md).
"""

from tests import pgsql
from tests.e2e.base import (
    NS_MIX_ACCOUNT, NS_MIX_PAM2, EndToEndCase, Scenarios, features,
    scenario)
from tests.e2e.servers import Prosody


class ProsodyTests(Scenarios, EndToEndCase):
    """
    The scenarios through Prosody, on the memory store.
    """

    serverClass = Prosody

    def checkUserServer(self, response):
        """
        Prosody advertises no MIX support for its accounts (PSRV-5).
        """
        self.assertEqual(set(), {NS_MIX_PAM2, NS_MIX_ACCOUNT} &
                         features(response))

    @scenario
    def test_bareJIDBounced(self):
        """
        Why Prosody's users need delivery to full JIDs (doc/interop.md):
        with C{--delivery bare}, Prosody answers the channel's groupchat
        message to hecate's bare JID with C{<message type='error'
        from='hecate@prosody.localhost'><error type='cancel'>
        <service-unavailable/></error></message>}, and hecate gets nothing.
        """
        bounce = yield self.bareJIDBounce()
        self.assertRegex(bounce, r"<error type=.cancel.><service-unavailable")


class ProsodyPgsqlTests(EndToEndCase):
    """
    One scenario through Prosody with C{twistd mix --backend pgsql}.
    """

    serverClass = Prosody

    @scenario
    def test_channelLifecycle(self):
        """
        The IQ scenario of L{Scenarios.test_channelLifecycle} (CRE-1,
        JOIN-2, JOIN-7, NICK-1, NICK-6, MSG-4, MAM-3, MAM-7, JOIN-19,
        CRE-9, CRE-10) on the pgsql store, in an empty database of the
        test's own, which the service migrates at start-up.
        """
        dsn = pgsql.scratchDatabase(self)
        self.mixArgs = ("--backend", "pgsql", "--dsn", dsn)
        yield self.channelLifecycle()
