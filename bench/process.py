"""
Process-level benchmarks: the real C{twistd -n mix} against a loopback
component endpoint played by this process.

The endpoint accepts the component's XEP-0114 stream and handshake, sends
stanzas "from users" over the socket and counts what comes back without
parsing it: C{<message} occurrences are counted per chunk, IQ answers are
found by id with a regular expression on the raw bytes.  The service runs
with C{--delivery bare} (copies to bare JIDs, no presence needed) and
without C{--verbose}; its CPU is read from C{/proc/<pid>/task/*/schedstat}
and its memory from C{/proc/<pid>/status}.

Subcommands (each on C{--backend memory} or C{--backend pgsql}; pgsql
makes a database of its own on the server the tests use,
C{MIXTWISTED_TEST_PGSQL}, and drops it afterwards):

  - C{fanout}: N participants join a channel (every k-th in
    C{urn:xmpp:mix:core:1}, the others in C{urn:xmpp:mix:1}), one of them
    sends M groupchat messages (100-byte body, origin-id) pipelined, and
    the N x M copies are counted.  Prints wall time, deliveries/s, service
    CPU per delivery, RSS per participant, and this process's own CPU to
    show it was not the bottleneck.
  - C{joins}: N joins, a bounded window of them in flight.  Prints
    joins/s, service CPU per join and RSS growth per idle participant.
  - C{mam}: fills the archive by sending messages, then times MAM
    queries for a page of 50 (first page, last page, page after a random
    archive id).

With C{--py-spy FILE} the service is sampled by py-spy during the measured
phase (raw collapsed stacks in FILE) and the functions that take most of
its CPU are printed.

Usage:
  python bench/process.py fanout [--backend memory|pgsql] [--participants N]
                                 [--messages M] [--core-every K]
                                 [--in-flight K]
  python bench/process.py joins [--backend ...] [--participants N]
                                [--window W]
  python bench/process.py mam [--backend ...] [--archive M] [--queries K]
                              [--no-analyze]
  (any of them) [--py-spy FILE]

C{--in-flight K} paces the messages (at most K whose copies have not all
come back; by default C{fanout} sends them all at once); C{--window W}
bounds the joins in flight (100).  On pgsql, C{mam} runs C{ANALYZE} on the
archive once it is filled, as autovacuum would within a minute
(C{--no-analyze}: query a table without statistics).  Every wait is
bounded: the benchmark stops with the reason and the end of the service's
log if the service exits, drops the connection, or sends nothing for
L{STALL_TIMEOUT} seconds while an answer is awaited.
"""

import argparse
import collections
import datetime
import glob
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from twisted.internet import defer, protocol, task  # noqa: E402

from tests import pgsql  # noqa: E402
from tests.test_process import (  # noqa: E402
    TWISTD, childEnvironment, handshakeDigest)

DOMAIN = "mix.bench.example"
SECRET = "bench-secret"
CHANNEL = "room@" + DOMAIN
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_COMPONENT = "jabber:component:accept"
NODE_MESSAGES = "urn:xmpp:mix:nodes:messages"
REVISIONS = ("urn:xmpp:mix:1", "urn:xmpp:mix:core:1")

#: Longest wait for the service to start and complete its handshake.
START_TIMEOUT = 60
#: Longest time without a byte from the service while waiting for one.
STALL_TIMEOUT = 30

BODY = "x" * 100
SENDER = "user0@bench.example"
SENDER_FULL = SENDER + "/r"

HEADER = re.compile(rb"<stream:stream\b[^>]*>")
HANDSHAKE = re.compile(rb"<handshake>\s*([0-9A-Fa-f]+)\s*</handshake>")
IQ_TAG = re.compile(rb"<iq\b[^>]*>")
ID = re.compile(rb"\sid=(['\"])(.*?)\1")
TYPE = re.compile(rb"\stype=(['\"])(.*?)\1")
#: The archive id of a reflected message: its C{<stanza-id/>}.
STANZA_ID = re.compile(rb"<stanza-id\b[^>]*\sid=['\"]([^'\"]+)")
MESSAGE = b"<message"
ERROR = (b"type='error'", b'type="error"')


class BenchError(Exception):
    """
    The benchmark could not run to its end (with the reason).
    """


# -- the service process -----------------------------------------------------


class ServiceProcess(protocol.ProcessProtocol):
    """
    The C{twistd -n mix} child: its output, its end, and its CPU and
    memory as the kernel reports them.
    """

    def __init__(self, logfile, onExit):
        self.logfile = logfile
        self.onExit = onExit
        self.output = collections.deque(maxlen=200)
        self.ended = defer.Deferred()
        self.running = True
        self.pid = None

    @classmethod
    def spawn(cls, reactor, workdir, port, extra, onExit):
        """
        Start C{twistd -n mix} in C{workdir}, connecting to C{port}.
        """
        logfile = os.path.join(workdir, "twistd.log")
        child = cls(logfile, onExit)
        args = TWISTD + [
            "-n", "--pidfile=", "--logfile=" + logfile,
            "mix", "--jid", DOMAIN, "--rhost", "127.0.0.1",
            "--rport", str(port), "--delivery", "bare"] + extra
        transport = reactor.spawnProcess(
            child, sys.executable, args,
            env=childEnvironment(MIX_SECRET=SECRET), path=workdir)
        child.pid = transport.pid
        return child

    def outReceived(self, data):
        self.output.append(data)

    errReceived = outReceived

    def processEnded(self, reason):
        self.running = False
        self.onExit("twistd mix exited: %s" % (reason.getErrorMessage(),))
        self.ended.callback(None)

    def cpuSeconds(self):
        """
        CPU time used so far by all the threads of the process.
        """
        return cpuSeconds(self.pid)

    def rssKB(self):
        """
        Resident set size (C{VmRSS}), in KB.
        """
        with open("/proc/%d/status" % (self.pid,)) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BenchError("no VmRSS for process %d" % (self.pid,))

    async def stop(self, reactor):
        """
        End the process: TERM, then KILL if it is still there 10 s later.
        """
        for sig in ("TERM", "KILL"):
            if not self.running:
                return
            try:
                os.kill(self.pid, getattr(signal, "SIG" + sig))
            except ProcessLookupError:
                return
            await wait(reactor, self.ended, 10)

    def tail(self):
        """
        The end of the child's output and log, for error reports.
        """
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                log = f.read()[-6000:]
        except OSError:
            log = "(no log file)"
        output = b"".join(self.output).decode("utf-8", "replace")[-2000:]
        return ("--- twistd output ---\n%s\n--- twistd log (end) ---\n%s"
                % (output, log))


def cpuSeconds(pid):
    """
    CPU seconds used by process C{pid}: the sum over its threads of the
    first field of C{schedstat} (ns on CPU); else C{utime + stime}.
    """
    total = 0
    found = False
    for path in glob.glob("/proc/%d/task/*/schedstat" % (pid,)):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
            found = True
        except (OSError, ValueError, IndexError):
            pass
    if found:
        return total / 1e9
    with open("/proc/%d/stat" % (pid,)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the component endpoint --------------------------------------------------


class Endpoint(protocol.Protocol):
    """
    The XMPP server's end of the component connection.

    Before the handshake it reads the stream header and the
    C{<handshake/>}; after it, it counts C{<message} occurrences and
    error stanzas, answers waiters on IQ ids and on message counts, and
    counts the C{markers} it is asked to.  Nothing is parsed: a tag cut
    between two reads is kept (C{pending}) until its C{>} arrives, so that
    every tag is looked at once, whole.

    @ivar messages: C{<message} start tags counted.
    @ivar errors: stanzas of type error counted (messages or IQs).
    @ivar markers: byte string to its count.
    @ivar collect: if set, a regular expression whose first group is
        appended to C{collected} for every match.
    """

    def connectionMade(self):
        self.streamID = os.urandom(8).hex()
        self.greeted = False
        self.authenticated = False
        self.buffer = b""
        self.pending = b""
        self.messages = 0
        self.errors = 0
        self.markers = {}
        self.collect = None
        self.collected = []
        self.iqs = {}
        self.countWaiter = None
        self.lastData = time.monotonic()
        self.lost = defer.Deferred()

    def dataReceived(self, data):
        self.lastData = time.monotonic()
        if self.authenticated:
            self.count(data)
        else:
            self.handshake(data)

    def handshake(self, data):
        self.buffer += data
        if not self.greeted and HEADER.search(self.buffer):
            self.greeted = True
            self.transport.write((
                "<?xml version='1.0'?><stream:stream xmlns='%s' "
                "xmlns:stream='%s' from='%s' id='%s'>"
                % (NS_COMPONENT, NS_STREAMS, DOMAIN, self.streamID)
            ).encode("ascii"))
        match = HANDSHAKE.search(self.buffer)
        if match is None:
            return
        expected = handshakeDigest(self.streamID, SECRET)
        if match.group(1).decode("ascii").lower() != expected:
            self.factory.fail("the component sent a wrong handshake digest")
            self.transport.loseConnection()
            return
        self.authenticated = True
        self.transport.write(b"<handshake/>")
        rest, self.buffer = self.buffer[match.end():], b""
        self.factory.handshakeDone(self)
        if rest:
            self.count(rest)

    def count(self, data):
        if self.pending:
            data = self.pending + data
        cut = data.rfind(b"<")
        if cut >= 0 and data.find(b">", cut) < 0:
            self.pending = data[cut:]
            data = data[:cut]
        else:
            self.pending = b""
        self.messages += data.count(MESSAGE)
        for marker in ERROR:
            self.errors += data.count(marker)
        for marker in self.markers:
            self.markers[marker] += data.count(marker)
        if self.collect is not None:
            self.collected.extend(self.collect.findall(data))
        if b"<iq" in data:
            for match in IQ_TAG.finditer(data):
                self.answered(match.group(), data, match.start())
        waiter = self.countWaiter
        if waiter is not None and self.messages >= waiter[0]:
            self.countWaiter = None
            waiter[1].callback(time.perf_counter())

    def answered(self, tag, data, start):
        """
        Fire the waiter of the IQ whose start tag is C{tag}.
        """
        match = ID.search(tag)
        d = self.iqs.pop(match.group(2), None) if match else None
        if d is None:
            return
        kind = TYPE.search(tag)
        if kind is not None and kind.group(2) == b"error":
            d.errback(BenchError("error answer: %s" % (
                data[start:start + 800].decode("utf-8", "replace"),)))
        else:
            d.callback(time.perf_counter())

    def send(self, xml):
        """
        Write stanzas (C{str} or C{bytes}) to the component.
        """
        self.transport.write(xml if isinstance(xml, bytes)
                             else xml.encode("utf-8"))

    def iq(self, iqid, xml):
        """
        Send an IQ request.

        @return: a Deferred firing with the C{perf_counter} time its
            result was read, failing with its start if it is an error.
        """
        d = self.iqs[iqid.encode("utf-8")] = defer.Deferred()
        self.send(xml)
        return d

    def untilMessages(self, count):
        """
        @return: a Deferred firing with the C{perf_counter} time at which
            C{count} messages had been counted.
        """
        if self.messages >= count:
            return defer.succeed(time.perf_counter())
        d = defer.Deferred()
        self.countWaiter = (count, d)
        return d

    def waiting(self):
        return bool(self.iqs) or self.countWaiter is not None

    def failWaiters(self, reason):
        """
        Fail every pending wait with C{reason}.
        """
        iqs, self.iqs = self.iqs, {}
        waiter, self.countWaiter = self.countWaiter, None
        pending = list(iqs.values()) + ([waiter[1]] if waiter else [])
        for d in pending:
            d.errback(BenchError(reason))

    def stalled(self, now):
        """
        Fail the waits if nothing came from the service for
        L{STALL_TIMEOUT} seconds while some were pending.
        """
        if self.waiting() and now - self.lastData > STALL_TIMEOUT:
            self.failWaiters(
                "nothing from the service for %d s (messages counted: %d, "
                "IQ answers awaited: %d, errors: %d)"
                % (STALL_TIMEOUT, self.messages, len(self.iqs), self.errors))
        elif not self.waiting():
            self.lastData = now

    def connectionLost(self, reason):
        self.failWaiters("component connection lost: %s"
                         % (reason.getErrorMessage(),))
        self.factory.connectionGone(self)
        self.lost.callback(None)


class EndpointFactory(protocol.ServerFactory):
    """
    Accepts the component's connection; L{connected} fires with its
    L{Endpoint} once the handshake is done.
    """

    protocol = Endpoint

    def __init__(self):
        self.connected = defer.Deferred()
        self.endpoint = None

    def handshakeDone(self, endpoint):
        if self.endpoint is None:
            self.endpoint = endpoint
            self.connected.callback(endpoint)

    def connectionGone(self, endpoint):
        if endpoint is self.endpoint:
            self.endpoint = None

    def fail(self, reason):
        """
        End every wait: the handshake's and the endpoint's.
        """
        if not self.connected.called:
            self.connected.errback(BenchError(reason))
        if self.endpoint is not None:
            self.endpoint.failWaiters(reason)

    def watch(self):
        """
        Called every second: fail the endpoint's stalled waits.
        """
        if self.endpoint is not None:
            self.endpoint.stalled(time.monotonic())


async def wait(reactor, d, seconds, what=None):
    """
    Wait for C{d} at most C{seconds}.

    @param what: what is awaited, for the error raised after C{seconds};
        without it the wait just ends then (returning C{None}).
    """
    done = defer.Deferred()
    timer = reactor.callLater(seconds, done.callback, False)

    def fired(result):
        if timer.active():
            timer.cancel()
            done.callback(True)
        return result

    d.addBoth(fired)
    if await done:
        return await d
    if what is not None:
        raise BenchError("no %s within %d s" % (what, seconds))


# -- one run of the service --------------------------------------------------


class Sample:
    """
    CPU and memory at one instant: the service's CPU and RSS, this
    process's CPU, the PostgreSQL backends' CPU, the wall clock.
    """

    def __init__(self, run):
        self.databaseCPU = run.databaseCPU()
        self.cpu = run.service.cpuSeconds()
        self.rss = run.service.rssKB()
        self.benchCPU = time.process_time()
        self.wall = time.perf_counter()


class Run:
    """
    A started service and its endpoint, with the requests the benchmarks
    share.
    """

    def __init__(self, reactor, args, service, endpoint, database):
        self.reactor = reactor
        self.args = args
        self.service = service
        self.endpoint = endpoint
        self.database = database
        self.profiler = None
        #: The phase under way, for C{--py-spy} (see L{PROFILED}).
        self.phase = "setup"

    def sample(self):
        return Sample(self)

    def execute(self, statement, parameters=(), dsn=None):
        """
        Run one SQL statement, on the service's database or on C{dsn},
        with a connection of its own.

        @return: the rows it returned, or C{None}.
        """
        connection = pgsql.schema.connect(
            dsn or pgsql.databaseDSN(self.database))
        try:
            connection.autocommit = True
            cursor = connection.cursor()
            cursor.execute(statement, parameters)
            return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    def databaseCPU(self):
        """
        CPU seconds of the PostgreSQL backends serving the service's
        database (0 on the memory store, or if they cannot be read).
        """
        if self.database is None:
            return 0.0
        rows = self.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s",
            (self.database,), dsn=pgsql.serverDSN())
        total = 0.0
        for (pid,) in rows:
            try:
                total += cpuSeconds(pid)
            except (OSError, ValueError, IndexError):
                pass
        return total

    async def until(self, d, what):
        """
        Wait for C{d}; the endpoint's watchdog fails it if the service
        goes quiet.
        """
        try:
            return await d
        except BenchError as e:
            raise BenchError("while waiting for %s: %s" % (what, e))

    async def iq(self, iqid, xml):
        return await self.until(self.endpoint.iq(iqid, xml),
                                "the answer to IQ %s" % (iqid,))

    async def pipelined(self, requests, window):
        """
        Send IQ requests C{(id, xml)} with at most C{window} unanswered.
        """
        semaphore = defer.DeferredSemaphore(window)
        answers = []
        for iqid, xml in requests:
            await semaphore.acquire()
            d = self.endpoint.iq(iqid, xml)
            d.addBoth(lambda result: (semaphore.release(), result)[1])
            answers.append(d)
        await self.until(defer.gatherResults(answers, consumeErrors=True),
                         "%d IQ answers" % (len(answers),))

    async def setUp(self, participants, coreEvery=0, window=100):
        """
        Create the channel, join C{participants} users to its messages node
        (user I in C{urn:xmpp:mix:core:1} when C{coreEvery} divides I + 1),
        give user0 a nick.

        @return: the samples before and after the joins.
        """
        await self.iq("create", "<iq type='set' id='create' from='owner@"
                      "bench.example/r' to='%s'><create xmlns='%s' "
                      "channel='room'/></iq>" % (DOMAIN, REVISIONS[0]))
        before = self.sample()
        await self.profile()
        await self.pipelined([
            ("j%d" % (n,),
             "<iq type='set' id='j%d' from='user%d@bench.example' to='%s'>"
             "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
             % (n, n, CHANNEL, revision(n, coreEvery), NODE_MESSAGES))
            for n in range(participants)], window)
        after = self.sample()
        await self.unprofile()
        await self.iq("nick", "<iq type='set' id='nick' from='%s' to='%s'>"
                      "<setnick xmlns='%s'><nick>speaker</nick></setnick>"
                      "</iq>" % (SENDER_FULL, CHANNEL,
                                 revision(0, coreEvery)))
        return before, after

    async def profile(self):
        """
        Start py-spy on the service if asked (C{--py-spy FILE}) and this
        phase is the one profiled.
        """
        if self.args.py_spy and self.profiler is None and \
                self.args.profiled == self.phase:
            with open(self.args.py_spy + ".log", "wb") as log:
                self.profiler = subprocess.Popen(
                    [os.path.join(os.path.dirname(sys.executable), "py-spy"),
                     "record", "--pid", str(self.service.pid),
                     "--rate", "250", "--format", "raw",
                     "--output", self.args.py_spy],
                    stdout=log, stderr=subprocess.STDOUT)
            # py-spy needs a moment to attach.
            await task.deferLater(self.reactor, 1.0, lambda: None)

    async def unprofile(self):
        """
        Stop py-spy (it writes its file on SIGINT), if it runs.
        """
        if self.profiler is not None and self.profiler.poll() is None:
            self.profiler.send_signal(signal.SIGINT)
            for _ in range(100):
                if self.profiler.poll() is not None:
                    break
                await task.deferLater(self.reactor, 0.1, lambda: None)
            else:
                self.profiler.kill()

    async def paced(self, stanzas, copies, inFlight):
        """
        Send C{stanzas} (messages, as bytes) with at most C{inFlight} of
        them (0: all) whose C{copies} copies have not all been counted: in
        batches of half of it, each sent once the one before the last is
        in.

        @return: the C{perf_counter} time at which the last copy was
            counted.
        """
        count = len(stanzas)
        batch = max(1, inFlight // 2) if inFlight else count
        for sent in range(0, count, batch):
            if sent > batch:
                await self.messages((sent - batch) * copies,
                                    "the copies of %d messages"
                                    % (sent - batch,))
            self.endpoint.send(b"".join(stanzas[sent:sent + batch]))
        return await self.messages(count * copies, "the %d copies of %d "
                                   "messages" % (count * copies, count))

    async def messages(self, count, what):
        """
        Wait until C{count} messages were counted since the last reset.

        @return: the C{perf_counter} time at which they were.
        """
        return await self.until(self.endpoint.untilMessages(count), what)

    def reset(self, markers=()):
        self.endpoint.messages = 0
        self.endpoint.errors = 0
        self.endpoint.markers = dict.fromkeys(markers, 0)

    async def settle(self, seconds=0.5):
        """
        Let stanzas still on their way arrive (to check nothing more
        comes).
        """
        await task.deferLater(self.reactor, seconds, lambda: None)


def revision(n, coreEvery):
    """
    The namespace user C{n} joins with.
    """
    return REVISIONS[1 if coreEvery and (n + 1) % coreEvery == 0 else 0]


def participants(n, coreEvery):
    """
    "N participants (K in urn:xmpp:mix:core:1)".
    """
    return "%d participants (%d in %s)" % (
        n, sum(revision(i, coreEvery) == REVISIONS[1] for i in range(n)),
        REVISIONS[1])


def message(n, to=CHANNEL):
    """
    Groupchat message C{n} from the sender, with an origin-id.
    """
    return ("<message type='groupchat' id='m%d' from='%s' to='%s'>"
            "<body>%s</body><origin-id xmlns='urn:xmpp:sid:0' id='o%d'/>"
            "</message>" % (n, SENDER_FULL, to, BODY, n)).encode("utf-8")


async def session(reactor, args, body):
    """
    Run C{await body(run)} against a fresh service of C{args.backend}:
    database, endpoint and child process are always cleaned up, and the
    child's log tail is printed when something fails.
    """
    print(describeMachine(args))
    database = None
    if args.backend == "pgsql":
        reason = pgsql.unreachable(pgsql.serverDSN())
        if reason is not None:
            raise SystemExit(reason)
        database = pgsql.createDatabase("mixtwisted_bench")
    workdir = tempfile.mkdtemp(prefix="mixbench-")
    factory = EndpointFactory()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    watchdog = task.LoopingCall(factory.watch)
    watchdog.start(1.0, now=False)
    service = run = None
    try:
        extra = ["--backend", args.backend]
        if database is not None:
            extra += ["--dsn", pgsql.databaseDSN(database)]
        service = ServiceProcess.spawn(reactor, workdir, port.getHost().port,
                                       extra, factory.fail)
        endpoint = await wait(reactor, factory.connected, START_TIMEOUT,
                              "handshake from the service")
        run = Run(reactor, args, service, endpoint, database)
        await body(run)
        if run.profiler is not None:
            await run.unprofile()
            printProfile(args.py_spy)
    except BenchError as e:
        if service is not None:
            print(service.tail(), file=sys.stderr)
        raise SystemExit("benchmark failed: %s" % (e,))
    finally:
        watchdog.stop()
        if run is not None:
            await run.unprofile()
        if service is not None:
            await service.stop(reactor)
        if factory.endpoint is not None:
            factory.endpoint.transport.abortConnection()
        await port.stopListening()
        if database is not None:
            pgsql.dropDatabase(database)
        shutil.rmtree(workdir, ignore_errors=True)
    print("load average after: %s" % (loadAverage(),))


# -- the benchmarks ----------------------------------------------------------


async def fanout(run):
    args = run.args
    n, m = args.participants, args.messages
    before, joined = await run.setUp(n, args.core_every, args.window)
    stanzas = [message(i) for i in range(m)]
    expected = n * m
    run.reset((b"<submission-id", b"urn:xmpp:mix:core:1"))
    run.phase = "send"
    await run.profile()
    start = run.sample()
    last = await run.paced(stanzas, n, args.in_flight)
    end = run.sample()
    await run.unprofile()
    await run.settle()
    counted = run.endpoint.messages
    if counted != expected or run.endpoint.errors:
        raise BenchError("expected %d deliveries, counted %d (%d errors)"
                         % (expected, counted, run.endpoint.errors))

    wall = last - start.wall
    cpu = end.cpu - start.cpu
    print("backend %s, %s, messages %d, deliveries %d"
          % (args.backend, participants(n, args.core_every), m, counted))
    print("markers in the copies: %s" % (", ".join(
        "%s %d" % (k.decode(), v)
        for k, v in run.endpoint.markers.items()),))
    print("send phase: wall %.3f s, %.0f deliveries/s, %.0f messages/s"
          % (wall, counted / wall, m / wall))
    print("service CPU %.3f s: %.2f us per delivery, %.1f us per message "
          "(%.0f%% of one core)" % (cpu, cpu / counted * 1e6,
                                    cpu / m * 1e6, cpu / wall * 100))
    printDatabase(run, start, end, counted, "delivery")
    printBench(start, end, wall)
    print("service RSS %d KB (%.0f KB before the joins): %.2f KB per "
          "participant (growth over the joins)"
          % (end.rss, before.rss, (joined.rss - before.rss) / n))


async def joins(run):
    args = run.args
    run.phase = "joins"
    before, after = await run.setUp(args.participants, args.core_every,
                                    args.window)
    await run.settle(1.0)
    idle = run.sample()
    n = args.participants
    wall = after.wall - before.wall
    cpu = after.cpu - before.cpu
    print("backend %s, %s, window %d"
          % (args.backend, participants(n, args.core_every), args.window))
    print("joins: wall %.3f s, %.0f joins/s" % (wall, n / wall))
    print("service CPU %.3f s: %.1f us per join (%.0f%% of one core)"
          % (cpu, cpu / n * 1e6, cpu / wall * 100))
    printDatabase(run, before, after, n, "join")
    printBench(before, after, wall)
    print("service RSS %d KB before, %d KB after the joins (%d KB 1 s "
          "later): %.3f KB per idle participant"
          % (before.rss, after.rss, idle.rss, (idle.rss - before.rss) / n))


async def mam(run):
    args = run.args
    await run.setUp(1)
    stanzas = [message(i) for i in range(args.archive)]
    run.reset()
    run.endpoint.collect = STANZA_ID
    start = run.sample()
    last = await run.paced(stanzas, 1, args.in_flight)
    end = run.sample()
    fill = last - start.wall
    run.endpoint.collect = None
    ids = [i.decode("ascii") for i in run.endpoint.collected]
    if len(ids) != args.archive or run.endpoint.errors:
        raise BenchError("archived %d messages, %d ids seen, %d errors"
                         % (args.archive, len(ids), run.endpoint.errors))
    print("backend %s, archive of %d messages filled through the socket in "
          "%.1f s (%.0f messages/s, one subscriber), service CPU %.0f us "
          "per message, RSS %d KB" % (
              args.backend, args.archive, fill, args.archive / fill,
              (end.cpu - start.cpu) / args.archive * 1e6, end.rss))
    printDatabase(run, start, end, args.archive, "message")
    if run.database is not None and args.analyze:
        # A table filled this fast has no statistics yet: the planner
        # takes the node's 100 000 entries for a handful until
        # autovacuum analyzes it (within its one-minute nap).
        run.execute("ANALYZE archive")
        print("ANALYZE archive done (what autovacuum does within a minute)")

    rng = random.Random(1)
    kinds = (
        ("first page", lambda: ""),
        ("last page (<before/>)", lambda: "<before/>"),
        ("page after a random id", lambda: "<after>%s</after>" % (
            ids[rng.randrange(len(ids) - args.page)],)),
    )
    run.phase = "mam"
    await run.profile()
    for name, bound in kinds:
        times = []
        start = run.sample()
        for q in range(args.queries):
            run.reset()
            iqid = "q%d" % (q,)
            sent = time.perf_counter()
            answered = await run.iq(
                iqid, "<iq type='set' id='%s' from='%s' to='%s'><query "
                "xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/"
                "protocol/rsm'><max>%d</max>%s</set></query></iq>"
                % (iqid, SENDER_FULL, CHANNEL, args.page, bound()))
            times.append(answered - sent)
            # Each result is a <message/> forwarding a <message/>.
            if run.endpoint.messages != 2 * args.page:
                raise BenchError("query %s: %d <message tags, expected %d"
                                 % (iqid, run.endpoint.messages,
                                    2 * args.page))
        end = run.sample()
        cpu = end.cpu - start.cpu
        ms = sorted(t * 1000 for t in times)
        print("MAM %-24s median %6.2f ms  p95 %6.2f ms  max %6.2f ms  "
              "service CPU %.0f us per query" % (
                  name, statistics.median(ms),
                  ms[min(len(ms) - 1, int(len(ms) * 0.95))], ms[-1],
                  cpu / args.queries * 1e6))
        printDatabase(run, start, end, args.queries, "query")


# -- output ------------------------------------------------------------------


def printDatabase(run, start, end, count, unit):
    if run.database is not None:
        cpu = end.databaseCPU - start.databaseCPU
        print("PostgreSQL backends CPU %.3f s: %.2f us per %s"
              % (cpu, cpu / count * 1e6, unit))


def printBench(start, end, wall):
    cpu = end.benchCPU - start.benchCPU
    print("bench process CPU %.3f s (%.0f%% of the wall time: %s)"
          % (cpu, cpu / wall * 100,
             "not the bottleneck" if cpu < 0.8 * wall
             else "MAY BE THE BOTTLENECK"))


def loadAverage():
    return " ".join("%.2f" % (x,) for x in os.getloadavg())


def describeMachine(args):
    """
    Date, CPU, versions, commit and load, for the record.
    """
    import twisted
    import wokkel
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = git("rev-parse", "--short", "HEAD") or "?"
    changed = git("status", "--porcelain", "--", "mixtwisted", "twisted")
    if changed:
        commit += " + uncommitted changes (%s)" % (", ".join(
            line[3:] for line in changed.splitlines()),)
    return ("%s, %s, %d CPUs (%s), Python %s, Twisted %s, wokkel %s, "
            "commit %s, load average %s\ncommand: %s" % (
                datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                platform.node() or "?", os.cpu_count() or 0, model,
                platform.python_version(), twisted.__version__,
                getattr(wokkel, "__version__", "?"), commit, loadAverage(),
                " ".join(["python bench/process.py"] + sys.argv[1:])))


def git(*args):
    """
    The output of a git command on the source tree ("" if it fails).
    """
    try:
        return subprocess.run(["git", "-C", ROOT] + list(args),
                              capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def printProfile(path, top=20):
    """
    Print the functions taking most of the samples in py-spy's raw
    output (collapsed stacks, one "frame;frame;... count" a line): own
    samples (the innermost frame) and inclusive samples.
    """
    own = collections.Counter()
    inclusive = collections.Counter()
    total = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if not stack or not count.isdigit():
                    continue
                count = int(count)
                total += count
                frames = [shortFrame(frame) for frame in stack.split(";")]
                own[frames[-1]] += count
                for frame in set(frames):
                    inclusive[frame] += count
    except OSError as e:
        print("no py-spy profile: %s" % (e,))
        return
    if not total:
        print("py-spy recorded no samples")
        return
    areas = collections.Counter()
    for frame, count in own.items():
        areas[area(frame)] += count
    print("py-spy: %d samples of the service; own samples by package: %s"
          % (total, ", ".join("%s %.0f%%" % (name, count * 100 / total)
                              for name, count in areas.most_common())))
    print("functions by own samples:")
    print("| function | own | inclusive |")
    print("| --- | --- | --- |")
    for frame, count in own.most_common(top):
        print("| `%s` | %.1f%% | %.1f%% |" % (
            frame, count * 100 / total, inclusive[frame] * 100 / total))


def area(frame):
    """
    The package of a L{shortFrame}: C{twisted/words}, C{mixtwisted},
    C{wokkel}..., or C{stdlib}.
    """
    path = frame.split(":", 1)[0]
    parts = path.split("/")
    if len(parts) == 1:
        return "stdlib"
    return "/".join(parts[:2]) if parts[0] == "twisted" else parts[0]


def shortFrame(frame):
    """
    C{"name (path/to/module.py:12)"} as C{"module.py:name"}: the line is
    dropped so that a function counts once.
    """
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = os.path.relpath(path, ROOT) if path.startswith("/") else path
    return "%s:%s" % (path, name)


# -- command line ------------------------------------------------------------


BENCHMARKS = {"fanout": fanout, "joins": joins, "mam": mam}
#: The phase C{--py-spy} samples in each benchmark.
PROFILED = {"fanout": "send", "joins": "joins", "mam": "mam"}


def parseArguments(argv):
    parser = argparse.ArgumentParser(
        description="Process-level benchmarks: the real twistd -n mix "
        "against a loopback component endpoint.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, defaults in (("fanout", dict(participants=50)),
                           ("joins", dict(participants=5000)),
                           ("mam", {})):
        sub = commands.add_parser(name)
        sub.add_argument("--backend", choices=("memory", "pgsql"),
                         default="memory")
        sub.add_argument("--window", type=int, default=100,
                         help="IQs in flight at most (joins)")
        sub.add_argument("--py-spy", metavar="FILE",
                         help="sample the service with py-spy during the "
                         "measured phase, raw stacks to FILE")
        if "participants" in defaults:
            sub.add_argument("--participants", type=int,
                             default=defaults["participants"])
            sub.add_argument("--core-every", type=int, default=2,
                             help="every K-th participant joins in "
                             "urn:xmpp:mix:core:1 (0: none)")
        if name in ("fanout", "mam"):
            sub.add_argument("--in-flight", type=int,
                             default=0 if name == "fanout" else 1000,
                             help="messages sent whose copies have not "
                             "all come back, at most (0: all at once)")
        if name == "fanout":
            sub.add_argument("--messages", type=int, default=2000)
        if name == "mam":
            sub.add_argument("--archive", type=int, default=100000)
            sub.add_argument("--queries", type=int, default=200)
            sub.add_argument("--page", type=int, default=50)
            sub.add_argument("--no-analyze", dest="analyze",
                             action="store_false",
                             help="pgsql: do not ANALYZE the archive "
                             "after filling it")
    args = parser.parse_args(argv)
    args.profiled = PROFILED[args.command]
    return args


def main():
    args = parseArguments(sys.argv[1:])
    task.react(lambda reactor: defer.ensureDeferred(
        session(reactor, args, BENCHMARKS[args.command])))


if __name__ == "__main__":
    main()
