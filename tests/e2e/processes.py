"""
Child processes for the end-to-end tests: start, watch, wait, stop.

L{ChildProcess} runs one program (an XMPP server, C{twistd mix}, a client)
with Twisted's C{spawnProcess}, keeps everything it writes (in memory and in
a file in the test's directory), lets a test wait, with a bound, for a line
of its output, and stops it in two steps (C{TERM}, then C{KILL}).  On Linux
every child is started through L{LAUNCHER}, which asks the kernel to send
it C{SIGTERM} when the test process dies, so that not even a killed trial
leaves servers behind.

Every wait here is bounded: L{bounded} turns a Deferred that did not fire in
time into an C{AssertionError} that says what was awaited.
"""

import codecs
import os
import re
import socket
import sys

from twisted.internet import defer, error, protocol, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint

#: Longest wait for one event (a server starting, a stanza arriving), in
#: seconds.
TIMEOUT = 20

#: How long a stopped process gets between C{TERM} and C{KILL}, and after
#: C{KILL}.
STOP_GRACE = 10

#: Linux only: run the command in argv[1:] after asking the kernel to send
#: it SIGTERM when its parent (the trial process) dies (PR_SET_PDEATHSIG
#: survives execve).  If the parent is already gone, exit at once.
LAUNCHER = [
    sys.executable, "-c",
    "import ctypes, os, signal, sys\n"
    "parent = int(sys.argv[1])\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)\n"
    "if os.getppid() != parent:\n"
    "    sys.exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n",
]


def launcherPrefix():
    """
    @return: the argv prefix that ties a child's life to ours (Linux), or
        an empty list.
    """
    if sys.platform.startswith("linux"):
        return LAUNCHER + [str(os.getpid())]
    return []


def freePorts(count):
    """
    C{count} different TCP ports on 127.0.0.1 that nothing listens on now.

    The ports are free when this returns; a server told to use them binds
    them a moment later.  Another program could take one in between: the
    server would then fail to start, and its output says so.
    """
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def bounded(d, seconds, description):
    """
    Wait for C{d} at most C{seconds}.

    @return: a Deferred firing as C{d} does, or failing with an
        C{AssertionError} naming C{description} when C{d} did not fire in
        time (C{d} is then cancelled).
    """
    def timedOut(failure):
        failure.trap(defer.TimeoutError)
        raise AssertionError("no %s within %g s" % (description, seconds))

    return d.addTimeout(seconds, reactor).addErrback(timedOut)


def sleep(seconds):
    """
    @return: a Deferred firing after C{seconds} (cancellable).
    """
    return task.deferLater(reactor, seconds)


def tail(text, lines=60):
    """
    The last C{lines} lines of C{text}.
    """
    parts = text.splitlines()
    if len(parts) <= lines:
        return text
    return "[... %d lines before ...]\n%s" % (
        len(parts) - lines, "\n".join(parts[-lines:]))


class ChildProcess(protocol.ProcessProtocol):
    """
    One child process of a test.

    @ivar name: what it is called in messages.
    @ivar text: everything it wrote so far (stdout and stderr), decoded.
    @ivar running: whether it still runs.
    @ivar ended: Deferred firing with C{None} when it has exited.
    """

    def __init__(self, name, argv, env, path, outputFile):
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.path = path
        self.outputFile = outputFile
        self.text = ""
        self.running = False
        self.started = False
        self.status = None
        self.ended = defer.Deferred()
        self._decoders = {
            1: codecs.getincrementaldecoder("utf-8")("replace"),
            2: codecs.getincrementaldecoder("utf-8")("replace"),
        }
        self._partial = {1: "", 2: ""}
        self._watchers = []
        self._file = None
        self.transport = None

    def start(self):
        """
        Start the process.

        @raise OSError: when it cannot be started.
        """
        self._file = open(self.outputFile, "w", encoding="utf-8")
        self._file.write("$ %s\n" % (" ".join(self.argv),))
        argv = launcherPrefix() + self.argv
        reactor.spawnProcess(self, argv[0], argv, env=self.env,
                             path=self.path)
        self.started = True
        self.running = True
        return self

    # Output.

    def childDataReceived(self, fd, data):
        decoder = self._decoders.get(fd)
        if decoder is None:
            return
        chunk = decoder.decode(data)
        self.text += chunk
        if self._file is not None:
            self._file.write(chunk)
            self._file.flush()
        lines = (self._partial[fd] + chunk).split("\n")
        self._partial[fd] = lines.pop()
        for line in lines:
            self.lineReceived(fd, line)
        self._checkWatchers()

    def lineReceived(self, fd, line):
        """
        Called with each complete line the process writes on C{fd}.
        """

    def mark(self):
        """
        @return: a position in the output, for L{waitForOutput}'s C{since}.
        """
        return len(self.text)

    def search(self, pattern, since=0):
        """
        @return: the first match of C{pattern} (a regular expression,
            multi-line) in the output after C{since}, or C{None}.
        """
        return re.compile(pattern, re.M).search(self.text, since)

    def waitForOutput(self, pattern, description, since=0, timeout=TIMEOUT):
        """
        Wait for C{pattern} to appear in the output after position C{since}.

        @return: a Deferred firing with the match; failing when the
            process ends first or after C{timeout} seconds.
        """
        match = self.search(pattern, since)
        if match is not None:
            return defer.succeed(match)
        if not self.running:
            return defer.fail(AssertionError(
                "%s ended before %s\n%s" % (self.name, description,
                                            self.describe())))
        d = defer.Deferred(lambda d: self._forget(d))
        self._watchers.append((re.compile(pattern, re.M), since, d,
                               description))
        return bounded(d, timeout, "%s from %s" % (description, self.name))

    def _forget(self, d):
        self._watchers = [w for w in self._watchers if w[2] is not d]

    def _checkWatchers(self):
        for watcher in list(self._watchers):
            pattern, since, d, description = watcher
            match = pattern.search(self.text, since)
            if match is not None:
                self._watchers.remove(watcher)
                d.callback(match)

    # Life.

    def processEnded(self, reason):
        self.running = False
        self.status = reason.value
        for fd, rest in self._partial.items():
            if rest:
                self.lineReceived(fd, rest)
        self._partial = {1: "", 2: ""}
        if self._file is not None:
            self._file.write("\n[%s ended: %s]\n" % (
                self.name, reason.getErrorMessage()))
            self._file.close()
            self._file = None
        watchers, self._watchers = self._watchers, []
        for pattern, since, d, description in watchers:
            d.errback(AssertionError(
                "%s ended before %s (%s)\n%s" % (
                    self.name, description, reason.getErrorMessage(),
                    self.describe())))
        self.ended.callback(None)

    def signal(self, name):
        """
        Send signal C{name} (C{"TERM"}, C{"KILL"}) if the process runs.
        """
        if self.running:
            try:
                self.transport.signalProcess(name)
            except error.ProcessExitedAlready:
                pass

    @defer.inlineCallbacks
    def stop(self, grace=STOP_GRACE):
        """
        Stop the process: C{TERM}, up to C{grace} seconds, then C{KILL}.
        Never fails.
        """
        for sig in ("TERM", "KILL"):
            if not self.running:
                break
            self.signal(sig)
            yield waitQuietly(self.ended, grace)
        if self.running:
            sys.stderr.write("%s (pid %s) did not end after KILL\n" % (
                self.name, self.transport.pid))

    def describe(self, lines=60):
        """
        The end of the output, for failure messages.
        """
        if not self.started:
            return "--- %s: not started ---" % (self.name,)
        state = "running" if self.running else "ended: %s" % (self.status,)
        return "--- %s (%s; full output in %s) ---\n%s" % (
            self.name, state, self.outputFile, tail(self.text, lines))


def waitQuietly(d, seconds):
    """
    Wait for C{d} at most C{seconds}; never fails, never cancels C{d}.
    """
    done = defer.Deferred()

    def fire(_=None):
        if not done.called:
            done.callback(None)
        return _

    call = reactor.callLater(seconds, fire)
    d.addBoth(fire)
    return done.addCallback(
        lambda _: call.cancel() if call.active() else None)


@defer.inlineCallbacks
def runCommand(name, argv, env, path, outputFile, timeout=TIMEOUT):
    """
    Run a command to its end (at most C{timeout} seconds).

    @return: a Deferred firing with its output when it exits with status
        0; failing with its output otherwise.
    """
    child = ChildProcess(name, argv, env, path, outputFile).start()
    yield waitQuietly(child.ended, timeout)
    if child.running:
        yield child.stop()
        raise AssertionError("%s did not finish within %g s\n%s" % (
            name, timeout, child.describe()))
    code = getattr(child.status, "exitCode", None)
    if code != 0:
        raise AssertionError("%s failed (%s)\n%s" % (
            name, child.status, child.describe()))
    return child.text


@defer.inlineCallbacks
def waitForPort(port, child, description, timeout=TIMEOUT):
    """
    Wait until something accepts TCP connections on 127.0.0.1:C{port},
    failing early when C{child} (the process that should listen) ends.
    """
    deadline = reactor.seconds() + timeout
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=2)
    while True:
        if not child.running:
            raise AssertionError("%s ended before listening on %s (port %d)"
                                 "\n%s" % (child.name, description, port,
                                           child.describe()))
        try:
            proto = yield endpoint.connect(
                protocol.Factory.forProtocol(protocol.Protocol))
        except error.ConnectError:
            if reactor.seconds() > deadline:
                raise AssertionError(
                    "%s not listening on %s (port %d) within %g s\n%s" % (
                        child.name, description, port, timeout,
                        child.describe()))
            yield sleep(0.1)
        else:
            proto.transport.abortConnection()
            return
