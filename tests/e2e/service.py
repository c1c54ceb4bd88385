"""
The MIX service under test: the real C{twistd -n mix}, attached to an
L{XMPPServer}'s component port.

It runs from the source tree (as in C{tests/test_process.py}) with
C{--verbose}, so that its output, kept by L{ChildProcess}, holds every
stanza it sends and receives: a test can wait for a stanza on the wire
(L{MixComponent.waitForStanza}), for example the bounce a server sends back
for a message it would not deliver.
"""

import os
import re

from twisted.internet import defer

from tests.e2e.processes import TIMEOUT, ChildProcess
from tests.test_process import TWISTD, childEnvironment


def stanzaPattern(direction, name, **attributes):
    """
    A regular expression for a line of C{twistd mix --verbose} output
    showing a C{name} stanza sent (C{"SEND"}) or received (C{"RECV"}) by
    the component whose start tag has the given attribute values, in any
    order (C{type_} stands for C{type}).
    """
    lookaheads = "".join(
        r"(?=[^>]*\s%s=['\"]%s['\"])" % (key.rstrip("_"), re.escape(value))
        for key, value in sorted(attributes.items()))
    return r"^.*\b%s: b.*?<%s\b%s[^>]*>.*$" % (direction, name, lookaheads)


class MixComponent:
    """
    C{twistd -n mix} for one test.

    @ivar process: its L{ChildProcess}.
    """

    def __init__(self, server, workdir, *extraArgs):
        self.server = server
        self.domain = server.mixDomain
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.args = TWISTD + [
            "-n", "--pidfile=",
            "mix", "--jid", self.domain,
            "--rhost", "127.0.0.1",
            "--rport", str(server.componentPort),
            "--verbose",
        ] + list(extraArgs)
        self.process = ChildProcess(
            "twistd mix", self.args,
            childEnvironment(MIX_SECRET=server.secret), self.workdir,
            os.path.join(self.workdir, "twistd.out"))

    @defer.inlineCallbacks
    def start(self):
        """
        Start the service and wait until the server accepted it.
        """
        self.process.start()
        yield self.process.waitForOutput(
            r"Component %s is online" % (re.escape(self.domain),),
            "'Component %s is online'" % (self.domain,))

    def stop(self):
        """
        Stop the service; never fails.
        """
        return self.process.stop()

    def describe(self):
        return self.process.describe()

    def mark(self):
        """
        The current end of the output (for C{since}).
        """
        return self.process.mark()

    def waitForStanza(self, direction, name, description, since=0,
                      timeout=TIMEOUT, **attributes):
        """
        Wait for a line showing a stanza sent or received (L{stanzaPattern}).

        @return: a Deferred firing with the line.
        """
        d = self.process.waitForOutput(
            stanzaPattern(direction, name, **attributes), description,
            since=since, timeout=timeout)
        return d.addCallback(lambda match: match.group(0))
