"""
Crash safety of the archive: the real C{twistd -n mix} on PostgreSQL is
stopped in the middle of a burst of messages, then started again on the
same database, and the archive is read back.

The requirements checked:

  - MSG-4 / MAM-7, "archived before reflected": a reflection is the
    archived entry, whose id is the archive id, and the service stores it
    I{before} it sends it, so a message a participant has been sent is
    never lost, whatever happens to the process afterwards;
  - MAM-1: every message sent to the channel is archived.  A crash may cut
    the burst short, but what is archived is a prefix of what the sender
    sent, in order (the service handles one client's messages in the
    order they arrived, D-46), with no gap and no duplicate, and the
    archive ids strictly increase (MAM paging compares them);
  - after a restart the service issues ids greater than every stored one
    (L{mixtwisted.channels.ChannelService.start}), so a new message sorts
    last in the archive, keeping the order that MAM paging and the
    delivery logic (DLV-1, DLV-3: retransmission with the same ids in the
    original order) rely on.

Each test runs C{twistd -n mix --backend pgsql} on a database of its own
(L{tests.pgsql.scratchDatabase}: created empty, migrated by the service,
dropped when the test ends), against the fake XMPP server of
L{tests.test_process}.  A sender (hag66) and a receiver (hecate) join the
channel coven, subscribed to its messages node, and the sender gets a
nick; the sender then writes a burst of groupchat messages (bodies
C{m00000}, C{m00001}, ...; ids C{s00000}, ...) in one transport write, and
while the service is busy with it the child is stopped:

  - L{CrashSafetyTests.test_killMidTraffic}: SIGKILL the moment the
    receiver has been sent C{KILL_AFTER} reflections;
  - L{CrashSafetyTests.test_killDuringBlockedArchiveWrite}: SIGKILL while
    an archive write is certainly under way: the test holds a lock on the
    archive table (L{ArchiveLock}) so that the service's write waits,
    which makes the check of MSG-4 independent of timing;
  - L{CrashSafetyTests.test_terminateMidTraffic}: SIGTERM, twistd's
    graceful stop, during such a blocked write: the service disconnects,
    then its store finishes the writes under way (C{PgsqlStore.stop}
    waits for the queued batches), so every message it read is archived.

The service is then started again on the same database; the sender pages
through the whole archive with MAM (C{urn:xmpp:mam:2}, RSM C{<after/>})
and the archive is compared with every reflection received before the
stop.  Every wait is bounded (L{TIMEOUT}); failures show the children's
output and logs.

When PostgreSQL cannot be reached the tests are skipped with the reason,
like every test of the pgsql backend (C{MIXTWISTED_TEST_PGSQL} names the
server, see L{tests.pgsql}).
"""

import ast
import os
import re

from twisted.internet import defer, reactor, task
from twisted.python import log
from twisted.trial import unittest

from mixtwisted.store import schema
from tests import pgsql, test_process
from tests.helpers import NODE_MESSAGES, NS_FORWARD, NS_MAM2, NS_MIX, NS_RSM
from tests.test_process import (
    CHANNEL, DOMAIN, HAG_BARE, HAG_FULL, TIMEOUT, ComponentServerProtocol,
    childText, firstChild)

HECATE_BARE = "hecate@shakespeare.example"

#: The sender's nick (MSG-7: a sender needs one).
NICK = "thirdwitch"

#: Archive entries asked for per MAM page.
PAGE = 250

#: Body of the message sent after the restart.
AFTER_RESTART = "after-restart"

#: Seconds without a stanza from the child after which it is taken to have
#: sent everything it was going to send.
QUIET = 0.5


def body(index):
    """
    The body of the C{index}th message of a burst.
    """
    return "m%05d" % (index,)


def submissionId(index):
    """
    The id the sender gives the C{index}th message of a burst.
    """
    return "s%05d" % (index,)


def burst(count):
    """
    C{count} groupchat messages from the sender to the channel (MSG-1), as
    one string.
    """
    return "".join(
        "<message type='groupchat' id='%s' from='%s' to='%s'>"
        "<body>%s</body></message>"
        % (submissionId(i), HAG_FULL, CHANNEL, body(i))
        for i in range(count))


def reflectionOf(element):
    """
    Read a reflected groupchat message (MSG-5, MSG-6).

    @return: C{(to, archive id, body, submission id)}, or C{None} when
        C{element} is something else (a MAM result, an IQ, a presence).
    """
    if element.name != "message" or \
            element.getAttribute("type") != "groupchat" or \
            element.getAttribute("from") != CHANNEL:
        return None
    mix = firstChild(element, "mix", NS_MIX)
    return (element.getAttribute("to"), element.getAttribute("id"),
            childText(element, "body"),
            None if mix is None else childText(mix, "submission-id"))


#: A traffic line of the twistd log (C{--verbose}): wokkel logs every
#: chunk of data read as C{RECV: } and the C{repr} of the bytes.
_RECV = re.compile(r"RECV: (b'.*'|b\".*\")$", re.M)

_BODY = re.compile(r"<body>(m\d+)</body></message>")


def messagesRead(logged):
    """
    The bodies of the burst messages that the service read in full,
    from the data it logged as received (C{--verbose}, which
    L{test_process.TwistdMixTests.startMix} always gives).  The chunks are
    joined first: a message may be split between two of them.
    """
    data = b"".join(ast.literal_eval(chunk) for chunk in _RECV.findall(logged))
    return _BODY.findall(data.decode("utf-8"))


class RecordingProtocol(ComponentServerProtocol):
    """
    L{ComponentServerProtocol} that also hands every stanza received after
    the handshake to its factory's C{observers} (callables given
    C{(connection, element)}), as it arrives, so that a test can act in
    the very moment the component has sent enough.
    """

    def onElement(self, element):
        authenticated = self.authenticated
        ComponentServerProtocol.onElement(self, element)
        if authenticated:
            for observer in list(self.factory.observers):
                observer(self, element)


class ArchiveLock:
    """
    A lock the test takes on the C{archive} table of the service's
    database, from a connection of its own (blocking psycopg2 calls, each
    a local round trip).  While it is held the service's archive writes
    wait (C{EXCLUSIVE} conflicts with the C{ROW EXCLUSIVE} lock an
    C{INSERT} takes) and its reads go on.
    """

    def __init__(self, dsn):
        self.dsn = dsn
        self.connection = None

    def take(self):
        """
        Lock the table (waiting, at most until a write under way commits).
        """
        self.connection = schema.connect(self.dsn)
        cursor = self.connection.cursor()
        cursor.execute("SET lock_timeout = '10s'")
        cursor.execute("LOCK TABLE archive IN EXCLUSIVE MODE")

    def writeWaiting(self):
        """
        Whether another session waits for the lock: an archive write.
        """
        cursor = self.connection.cursor()
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted "
            "AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database()) "
            "AND relation = 'archive'::regclass")
        return cursor.fetchone()[0] > 0

    def archiveIds(self):
        """
        The ids of the messages node entries committed (the other nodes'
        entries, MAM-4, are left out).
        """
        cursor = self.connection.cursor()
        cursor.execute("SELECT archive_id FROM archive WHERE node = %s",
                       (NODE_MESSAGES,))
        return {row[0] for row in cursor.fetchall()}

    def release(self):
        """
        Roll back, releasing the lock, and close the connection.
        """
        if self.connection is not None and not self.connection.closed:
            self.connection.close()


class CrashSafetyTests(unittest.TestCase):
    """
    Stop C{twistd -n mix --backend pgsql} in the middle of a burst of
    messages, restart it on the same database and read the archive back
    (MSG-4, MAM-1, MAM-7, DLV-1).

    Starting, describing and shutting down the child are
    L{test_process.TwistdMixTests}'s; this class adds the database, the
    restart and the checks.
    """

    timeout = 300

    startMix = test_process.TwistdMixTests.startMix
    shutDown = test_process.TwistdMixTests.shutDown
    waitOrTimeout = test_process.TwistdMixTests.waitOrTimeout
    assertNoProblems = test_process.TwistdMixTests.assertNoProblems

    #: Messages in the burst of the kill tests, and reflections to the
    #: receiver before the unprepared kill: few enough that the child is
    #: still busy with most of the burst (checked).
    KILL_BURST = 3000
    KILL_AFTER = 200

    #: Messages in the burst of the SIGTERM test: enough that batches
    #: still wait behind the held write when the signal comes (the store
    #: writes at most 1000 entries at once).
    TERM_BURST = 3000

    def setUp(self):
        # Made first so that it is dropped last, once the child is dead
        # (cleanups run in reverse order); skips without PostgreSQL.
        self.dsn = pgsql.scratchDatabase(self)
        #: C{(child, log file)} of every start of twistd, in order.
        self.runs = []
        test_process.TwistdMixTests.setUp(self)
        # Its fake server, recording as stanzas arrive.
        self.server.protocol = RecordingProtocol
        self.server.observers = []

    def describe(self):
        """
        Every run's output and log, for failure messages.
        """
        parts = []
        for number, (child, logfile) in enumerate(self.runs, 1):
            parts.append("=== run %d: running: %s, status: %s" % (
                number, child.running, child.status))
            output = b"".join(child.output).decode("utf-8", "replace")
            parts.append("--- stdout/stderr ---\n" + output[-3000:])
            logged = self.readLog(logfile)
            events = [line for line in logged.splitlines()
                      if "] SEND: " not in line and "] RECV: " not in line]
            parts.append("--- twistd log, traffic left out (last 80 "
                         "lines) ---\n" + "\n".join(events[-80:]))
            parts.append("--- twistd log (last 3000 chars) ---\n" +
                         logged[-3000:])
        return "\n".join(parts)

    @staticmethod
    def readLog(logfile):
        """
        The whole log of a run: twistd rotates its log file every megabyte
        (C{twistd.log.2}, C{twistd.log.1}, then C{twistd.log}, oldest
        first), and a burst logged with C{--verbose} fills several.
        """
        directory, name = os.path.split(logfile)
        rotated = sorted(
            (int(entry[len(name) + 1:]), entry)
            for entry in os.listdir(directory)
            if entry.startswith(name + ".") and
            entry[len(name) + 1:].isdigit())
        parts = []
        for path in [entry for _, entry in reversed(rotated)] + [name]:
            try:
                with open(os.path.join(directory, path), encoding="utf-8",
                          errors="replace") as f:
                    parts.append(f.read())
            except OSError:
                parts.append("(no log file %s)" % (path,))
        return "".join(parts)

    def startRun(self):
        """
        Start C{twistd -n mix} on the test's database, with a log file of
        this run's own.
        """
        self.logfile = os.path.join(self.workdir,
                                    "twistd-%d.log" % (len(self.runs) + 1,))
        child = self.startMix("--backend", "pgsql", "--dsn", self.dsn)
        self.runs.append((child, self.logfile))
        return child

    def within(self, d, seconds, what):
        """
        Wait for C{d}, failing with C{what} and the children's logs after
        C{seconds}.
        """
        result = defer.Deferred()

        def expire():
            if not result.called:
                result.errback(AssertionError(
                    "no %s within %d s\n%s" % (what, seconds,
                                                self.describe())))
        call = reactor.callLater(seconds, expire)

        def fired(value):
            if call.active():
                call.cancel()
            if not result.called:
                result.callback(value)
        d.addBoth(fired)
        return result

    @defer.inlineCallbacks
    def poll(self, condition, what, seconds=TIMEOUT):
        """
        Wait until C{condition()} is true, looking every 50 ms, failing
        with C{what} after C{seconds}.
        """
        deadline = reactor.seconds() + seconds
        while not condition():
            if reactor.seconds() > deadline:
                self.fail("no %s within %d s\n%s" % (what, seconds,
                                                     self.describe()))
            yield task.deferLater(reactor, 0.05, lambda: None)

    @defer.inlineCallbacks
    def iq(self, conn, stanzaID, xml):
        """
        Send an IQ and return its answer, which must be a result.
        """
        conn.send(xml)
        answer = yield conn.waitForResponse(stanzaID)
        self.assertEqual(answer.getAttribute("type"), "result",
                         answer.toXml())
        return answer

    @defer.inlineCallbacks
    def prepareChannel(self):
        """
        Start the service, create coven, join the sender and the receiver
        subscribed to its messages node (JOIN-1) and give the sender a
        nick (NICK).

        @return: the component connection.
        """
        self.startRun()
        conn = yield self.server.waitForHandshake(1)
        self.assertNoProblems()
        yield self.iq(conn, "create", (
            "<iq type='set' id='create' from='%s' to='%s'>"
            "<create channel='coven' xmlns='%s'/></iq>"
            % (HAG_FULL, DOMAIN, NS_MIX)))
        for who in (HAG_BARE, HECATE_BARE):
            yield self.iq(conn, "join-" + who, (
                "<iq type='set' id='join-%s' from='%s' to='%s'>"
                "<join xmlns='%s'><subscribe node='%s'/></join></iq>"
                % (who, who, CHANNEL, NS_MIX, NODE_MESSAGES)))
        yield self.iq(conn, "nick", (
            "<iq type='set' id='nick' from='%s' to='%s'>"
            "<setnick xmlns='%s'><nick>%s</nick></setnick></iq>"
            % (HAG_FULL, CHANNEL, NS_MIX, NICK)))
        return conn

    @defer.inlineCallbacks
    def burstAndStop(self, conn, count, threshold, signal, hold=None,
                     release=None, afterSignal=None):
        """
        Write C{count} messages in one go; the moment the receiver has been
        sent C{threshold} reflections, send C{signal} to the child; wait
        for the connection to close and the child to end.

        @param hold: if given, called at the threshold instead
            (synchronously, from the stanza handler) with a function giving
            the time the last stanza was received; the signal is sent once
            the Deferred it returns fires.
        @param release: if given, called once the connection is closed,
            before waiting for the child to end.
        @param afterSignal: if given, called right after the signal is
            sent; the connection may stay open until what it starts is
            done.
        @return: the reflections received on C{conn} until it closed, in
            order, as L{reflectionOf} reads them.
        """
        reflections = []
        toReceiver = [0]
        lastReceived = [reactor.seconds()]
        reached = defer.Deferred()
        child = self.child

        def observe(connection, element):
            if connection is not conn:
                return
            lastReceived[0] = reactor.seconds()
            reflection = reflectionOf(element)
            if reflection is None:
                return
            reflections.append(reflection)
            if reflection[0] == HECATE_BARE:
                toReceiver[0] += 1
                if toReceiver[0] >= threshold and not reached.called:
                    if hold is None:
                        self.childTransport.signalProcess(signal)
                        reached.callback(None)
                    else:
                        # (In a list: a Deferred cannot be a result.)
                        reached.callback([hold(lambda: lastReceived[0])])

        def ended(_):
            if not reached.called:
                reached.errback(AssertionError(
                    "the child ended before %d reflections to the receiver "
                    "(%d)\n%s" % (threshold, toReceiver[0], self.describe())))
        child.ended.addCallback(ended)
        self.server.observers.append(observe)
        try:
            conn.send(burst(count))
            held = yield self.within(
                reached, TIMEOUT,
                "%d reflections to the receiver" % (threshold,))
            if hold is not None:
                yield held[0]
                self.childTransport.signalProcess(signal)
            if afterSignal is not None:
                afterSignal()
            yield self.within(conn.lost, TIMEOUT,
                              "end of the component connection after SIG%s"
                              % (signal,))
        finally:
            self.server.observers.remove(observe)
        if release is not None:
            release()
        yield self.within(child.ended, TIMEOUT,
                          "end of the child after SIG%s" % (signal,))
        return reflections

    def holdArchiveWrites(self, lock):
        """
        A C{hold} for L{burstAndStop}: take C{lock}, then wait until an
        archive write waits for it and the child has gone quiet.
        """
        @defer.inlineCallbacks
        def hold(lastReceived):
            lock.take()
            yield self.poll(lock.writeWaiting,
                            "archive write waiting for the test's lock")
            yield self.poll(
                lambda: reactor.seconds() - lastReceived() >= QUIET,
                "quiet connection")
        return hold

    @defer.inlineCallbacks
    def restart(self):
        """
        Start the service again on the same database.

        @return: the new component connection.
        """
        self.startRun()
        conn = yield self.server.waitForHandshake(len(self.runs))
        self.assertNoProblems()
        return conn

    @defer.inlineCallbacks
    def mamPage(self, conn, queryID, rsm):
        """
        One MAM query of the sender on the channel's messages archive
        (MAM-3) with the RSM element C{rsm}.

        @return: C{(entries, fin)}: C{(archive id, body)} of every result,
            in order, and the C{<fin/>} element.
        """
        answer = yield self.iq(conn, queryID, (
            "<iq type='set' id='%s' from='%s' to='%s'>"
            "<query xmlns='%s' queryid='%s'>%s</query></iq>"
            % (queryID, HAG_FULL, CHANNEL, NS_MAM2, queryID, rsm)))
        entries = []
        for element in conn.received:
            result = firstChild(element, "result", NS_MAM2)
            if element.name != "message" or result is None or \
                    result.getAttribute("queryid") != queryID:
                continue
            forwarded = firstChild(result, "forwarded", NS_FORWARD)
            archived = firstChild(forwarded, "message")
            # MAM-7: the archived stanza's id is the archive id.
            self.assertEqual(archived.getAttribute("id"),
                             result.getAttribute("id"), element.toXml())
            entries.append((result.getAttribute("id"),
                            childText(archived, "body")))
        fin = firstChild(answer, "fin", NS_MAM2)
        self.assertIsNotNone(fin, answer.toXml())
        return entries, fin

    @defer.inlineCallbacks
    def readArchive(self, conn, most):
        """
        Page through the whole messages archive, oldest first, with RSM
        C{<after/>} (MAM-3).

        @param most: at most how many entries there can be (bounds the
            number of pages).
        @return: C{(archive id, body)} of every entry, in archive order.
        """
        entries = []
        after = ""
        for page in range(most // PAGE + 3):
            rsm = "<set xmlns='%s'><max>%d</max>%s</set>" % (
                NS_RSM, PAGE, "<after>%s</after>" % (after,) if after else "")
            found, fin = yield self.mamPage(conn, "page%d" % (page,), rsm)
            self.assertLessEqual(len(found), PAGE)
            entries.extend(found)
            if fin.getAttribute("complete") == "true":
                count = childText(firstChild(fin, "set", NS_RSM), "count")
                if count is not None:
                    self.assertEqual(int(count), len(entries), fin.toXml())
                return entries
            self.assertTrue(found, "an incomplete page without entries: %s"
                            % (fin.toXml(),))
            after = found[-1][0]
        self.fail("more than %d archive pages for at most %d entries"
                  % (page + 1, most))

    def checkArchive(self, archived, reflections, sent):
        """
        The properties that must hold however the service was stopped.

        @param archived: C{(archive id, body)} of every entry, in archive
            order, read after the restart.
        @param reflections: what the first run sent before it stopped.
        @param sent: how many messages the burst had.
        """
        bodies = [b for _, b in archived]
        ids = [i for i, _ in archived]
        # (b) MAM-1, one client's messages in order: a prefix of the
        # burst, without gap or duplicate.
        self.assertLessEqual(len(bodies), sent)
        expected = [body(i) for i in range(len(bodies))]
        if bodies != expected:
            bad = next(n for n, (b, e) in enumerate(zip(bodies, expected))
                       if b != e)
            self.fail("the archive is not %s..%s in order: entry %d is %r, "
                      "not %r; entries %d..: %r"
                      % (body(0), body(len(bodies) - 1), bad, bodies[bad],
                         expected[bad], max(0, bad - 3),
                         bodies[max(0, bad - 3):bad + 4]))
        # (c) Unique, strictly increasing archive ids (MAM paging).
        self.assertEqual(len(set(ids)), len(ids), "duplicate archive ids")
        for before, after in zip(ids, ids[1:]):
            self.assertLess(before, after, "archive ids out of order")
        # (a) MSG-4: reflected, so archived, with the same id and body.
        byId = dict(archived)
        lost = [(to, i, b) for to, i, b, _ in reflections if byId.get(i) != b]
        if lost:
            self.fail("%d of %d reflections sent before the stop are not in "
                      "the archive after the restart, e.g. %r"
                      % (len(lost), len(reflections), lost[:5]))
        # MSG-5, MSG-6: at most one copy to each subscriber, the submission
        # id on the sender's copy only.
        for recipient in (HAG_BARE, HECATE_BARE):
            mine = [r for r in reflections if r[0] == recipient]
            self.assertEqual(len({r[1] for r in mine}), len(mine),
                             "a reflection sent twice to " + recipient)
        index = {b: n for n, b in enumerate(bodies)}
        for to, _, b, sid in reflections:
            self.assertIn(to, (HAG_BARE, HECATE_BARE))
            if to == HAG_BARE:
                self.assertEqual(sid, submissionId(index[b]))
            else:
                self.assertIsNone(sid)

    @defer.inlineCallbacks
    def checkAfterRestart(self, conn, archived):
        """
        (d) A message sent after the restart is reflected with an id
        greater than every archived one and is the archive's last entry
        (MAM-1, MAM-7).
        """
        conn.send("<message type='groupchat' id='after' from='%s' to='%s'>"
                  "<body>%s</body></message>"
                  % (HAG_FULL, CHANNEL, AFTER_RESTART))
        reflected = yield conn.waitFor(
            lambda e: (reflectionOf(e) or (None,))[0] == HECATE_BARE,
            "reflection of the message sent after the restart")
        _, newId, newBody, _ = reflectionOf(reflected)
        self.assertEqual(newBody, AFTER_RESTART)
        if archived:
            self.assertGreater(newId, archived[-1][0],
                               "a new id sorts before a stored one")
        last, fin = yield self.mamPage(
            conn, "last", "<set xmlns='%s'><max>1</max><before/></set>"
            % (NS_RSM,))
        self.assertEqual(last, [(newId, AFTER_RESTART)])
        count = childText(firstChild(fin, "set", NS_RSM), "count")
        self.assertEqual(count, str(len(archived) + 1))

    def report(self, what, sent, archived, reflections):
        """
        Put the figures of a run in the test log (C{_trial_temp/test.log}).
        """
        log.msg("crash figures, %s: %d sent, %d archived, %d reflections "
                "received (%d to the receiver, %d to the sender)" % (
                    what, sent, len(archived), len(reflections),
                    sum(1 for r in reflections if r[0] == HECATE_BARE),
                    sum(1 for r in reflections if r[0] == HAG_BARE)))

    def assertKilled(self):
        self.assertEqual(getattr(self.child.status, "signal", None), 9,
                         "the child did not die of SIGKILL: %s"
                         % (self.child.status,))

    # -- tests --------------------------------------------------------------

    @defer.inlineCallbacks
    def test_killMidTraffic(self):
        """
        SIGKILL the moment the receiver has been sent C{KILL_AFTER}
        reflections of a C{KILL_BURST} burst, then restart on the same
        database: every message reflected before the kill is in the
        archive with the id and body it was reflected with (MSG-4,
        archived before reflected); the archive is the first messages of
        the burst in order, with unique increasing ids (MAM-1); new ids
        follow the stored ones (MAM-7, the order DLV-1 retransmission
        keeps).  The kill must come mid-traffic: fewer messages archived,
        or reflected, than sent.
        """
        sent = self.KILL_BURST
        conn = yield self.prepareChannel()
        reflections = yield self.burstAndStop(
            conn, sent, self.KILL_AFTER, "KILL")
        self.assertKilled()

        conn = yield self.restart()
        archived = yield self.readArchive(conn, sent)
        self.report("SIGKILL", sent, archived, reflections)
        self.checkArchive(archived, reflections, sent)
        # (e) Mid-traffic: something was still to archive or to reflect.
        toReceiver = [r for r in reflections if r[0] == HECATE_BARE]
        self.assertGreaterEqual(len(toReceiver), self.KILL_AFTER)
        self.assertTrue(
            len(archived) < sent or len(toReceiver) < sent,
            "the kill came after the whole burst was archived and "
            "reflected: make the burst larger")
        yield self.checkAfterRestart(conn, archived)
        self.assertNoProblems()

    @defer.inlineCallbacks
    def test_killDuringBlockedArchiveWrite(self):
        """
        SIGKILL at a moment made certain.  At the first reflection the
        test locks the archive table, so that the service's next archive
        write waits; once that write is seen waiting and the child has
        gone quiet (it has sent all it would), SIGKILL.  Still holding the
        lock, the test reads which entries were committed at the kill:
        every reflection received must be one of them (MSG-4: a service
        that reflected before archiving fails here every time, not only
        when the timing shows it), and they are fewer than the messages
        sent.

        The write that waited is not necessarily lost: PostgreSQL finishes
        a statement it has received even when its client is gone, so once
        the lock is released that batch may be committed, never reflected.
        That is allowed (participants catch up with MAM); after the restart
        the archive must hold at least what was committed at the kill,
        with the prefix, order and id properties (MAM-1, MAM-7).
        """
        sent = self.KILL_BURST
        conn = yield self.prepareChannel()
        lock = ArchiveLock(self.dsn)
        self.addCleanup(lock.release)
        committed = set()

        def release():
            committed.update(lock.archiveIds())
            lock.release()

        reflections = yield self.burstAndStop(
            conn, sent, 1, "KILL", self.holdArchiveWrites(lock), release)
        self.assertKilled()
        uncommitted = sorted({r[1] for r in reflections} - committed)
        if uncommitted:
            self.fail("%d reflections of entries not committed at the kill, "
                      "e.g. %r" % (len(uncommitted), uncommitted[:5]))
        self.assertLess(len(committed), sent)

        conn = yield self.restart()
        archived = yield self.readArchive(conn, sent)
        self.report("SIGKILL during a blocked archive write (%d committed "
                    "at the kill)" % (len(committed),),
                    sent, archived, reflections)
        self.checkArchive(archived, reflections, sent)
        self.assertEqual(committed - {i for i, _ in archived}, set(),
                         "committed at the kill, missing after the restart")
        yield self.checkAfterRestart(conn, archived)
        self.assertNoProblems()

    @defer.inlineCallbacks
    def test_terminateMidTraffic(self):
        """
        SIGTERM (twistd's graceful stop, D-60) while an archive write is
        under way (held by the test's lock as in
        L{test_killDuringBlockedArchiveWrite}, and let go once the service
        logs that it takes no more stanzas), then restart: the service
        stops reading traffic, lets the writes under way and queued finish,
        sends their reflections, and only then disconnects.  So every
        message the service read is archived (MAM-1) and reflected (MSG-4,
        nothing archived is left unsent); prefix, order and id properties
        as after a kill.
        """
        sent = self.TERM_BURST
        conn = yield self.prepareChannel()
        lock = ArchiveLock(self.dsn)
        self.addCleanup(lock.release)
        committed = set()
        stopping = []

        def releaseWhenStopping():
            # Release the archive once the stop has begun: the writes
            # under way must then complete and be reflected before the
            # service disconnects.
            def poll():
                if "Stopping: no longer taking stanzas" in \
                        self.readLog(self.logfile):
                    committed.update(lock.archiveIds())
                    lock.release()
                else:
                    stopping.append(reactor.callLater(0.05, poll))
            poll()
        self.addCleanup(
            lambda: [c.cancel() for c in stopping if c.active()])

        reflections = yield self.burstAndStop(
            conn, sent, 1, "TERM", self.holdArchiveWrites(lock),
            afterSignal=releaseWhenStopping)
        firstLog = self.readLog(self.logfile)
        # A graceful stop: twistd handled the signal and stopped its
        # services and its reactor (it then ends itself with the same
        # signal, to tell why it stopped).
        for line in ("Received SIGTERM, shutting down.",
                     "Main loop terminated.", "Server Shut Down."):
            self.assertIn(line, firstLog, self.describe())
        self.assertNotIn("Traceback", firstLog, self.describe())
        self.assertNotIn("Could not stop the store", firstLog,
                         self.describe())

        conn = yield self.restart()
        archived = yield self.readArchive(conn, sent)
        self.report("SIGTERM during a blocked archive write (%d committed "
                    "at the signal)" % (len(committed),), sent, archived,
                    reflections)
        self.checkArchive(archived, reflections, sent)
        # The stop waited for the writes under way: every message read is
        # archived...
        read = messagesRead(firstLog)
        self.assertEqual(
            len(archived), len(read),
            "%d messages read by the service before it stopped, %d "
            "archived" % (len(read), len(archived)))
        # ... among them those of the write that was held when the stop
        # began, and every one of them was reflected before the service
        # disconnected.
        self.assertLess(len(committed), len(archived),
                        "nothing was left to archive at the stop")
        toReceiver = [r for r in reflections if r[0] == HECATE_BARE]
        self.assertEqual(len(archived), len(toReceiver))
        yield self.checkAfterRestart(conn, archived)
        self.assertNoProblems()
