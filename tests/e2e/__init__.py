"""
End-to-end tests: real XMPP servers (Prosody, ejabberd), the real C{twistd
mix} attached as their external component, and real slixmpp clients, all on
127.0.0.1, in the test's temporary directory, started and stopped by each
test.

- C{processes.py}: child processes, free ports, bounded waits.
- C{servers.py}: Prosody and ejabberd, configured for one test.
- C{names.py}: a DNS server run by a test whose servers talk to each
  other (s2s).
- C{service.py}: C{twistd -n mix} attached to a server.
- C{slixclient.py}: the slixmpp client program (a child process): raw
  stanzas, and slixmpp's own MIX plugins (XEP-0369 MIX-CORE, XEP-0403
  MIX-PRESENCE, XEP-0405 MIX-PAM) with their events.
- C{clients.py}: the test's side of a client.
- C{base.py}: the test case and the scenarios both servers run, among
  them one channel with a C{urn:xmpp:mix:1} client and a MIX-CORE one.
- C{test_prosody.py}, C{test_ejabberd.py}: the tests of each server
  (MIX-CORE through slixmpp's plugins straight to the channel on Prosody,
  through ejabberd's MIX-PAM on ejabberd).
- C{test_interdomain.py}: Prosody and ejabberd linked by s2s, one channel
  with a user of each (issue 6's acceptance check).

Tests of a server that is not installed are skipped with the reason, as
are all of them without slixmpp; the s2s tests also need Prosody's
C{lua-unbound}.
"""
