"""
Tests for the channel's MAM archive: XEP-0313 queries with XEP-0059 paging
(requirements.md 1.20 MAM-1..7, with AMB-37 and AMB-48), and the archive id
and date-time helpers they rely on (L{mixtwisted.ids}).
"""

import re

from twisted.internet.task import Clock
from twisted.trial import unittest

from mixtwisted.ids import (
    ArchiveIdGenerator, formatDateTime, parseArchiveId, parseDateTime)
from tests.helpers import (
    CAT, CAT_FULL, COVEN, DOMAIN, HAG66_FULL, HECATE, HECATE_FULL,
    MemoryStoreMixin,
    NODE_CONFIG, NODE_JIDMAP, NODE_PARTICIPANTS, NS_CLIENT, NS_DATA, NS_DELAY,
    NS_DISCO_INFO, NS_FORWARD, NS_MAM1, NS_MAM2, NS_MIX, NS_PUBSUB,
    NS_PUBSUB_EVENT, NS_RSM, SmallChannelMixin, archiveCount, child,
    errorCondition, mamQuery, rsm, submitForm)
from tests.pgsql import PgsqlStoreMixin

T0 = 1500000000
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class MAMTestsMixin(SmallChannelMixin):
    """
    MAM queries addressed to a channel (MAM-*).
    """

    async def say(self, n, sender=HAG66_FULL, advance=0):
        """
        Send C{n} messages; return their archive ids (from the reflection).
        """
        ids = []
        for i in range(n):
            await self.h.message(sender, "msg %d" % (i,), "c%d" % (i,))
            own = [s for s in self.h.take() if s.name == "message" and
                   s.getAttribute("type") == "groupchat" and
                   s.getAttribute("to") == sender.split("/")[0]]
            self.assertEqual(1, len(own))
            ids.append(own[0]["id"])
            if advance:
                await self.h.advance(advance)
        return ids

    async def query(self, body="", requester=HAG66_FULL, **kw):
        return await mamQuery(self.h, requester, body, **kw)

    def fin(self, response, namespace=NS_MAM2):
        self.assertResult(response)
        fin = child(response, namespace, "fin")
        self.assertIsNotNone(fin, response.toXml())
        return fin

    def rsmOf(self, fin):
        s = child(fin, NS_RSM, "set")
        self.assertIsNotNone(s, fin.toXml())
        values = {}
        for name in ("first", "last", "count"):
            e = child(s, NS_RSM, name)
            values[name] = str(e) if e is not None else None
        return values

    def resultIds(self, results, namespace=NS_MAM2):
        return [child(r, namespace, "result")["id"] for r in results]

    async def page(self, body):
        response, results = await self.query(body)
        fin = self.fin(response)
        return fin.getAttribute("complete"), self.resultIds(results), \
            self.rsmOf(fin)

    # MAM-1, MAM-2

    async def test_everyMessageArchived(self):
        """
        MAM-1: every message sent to the channel is archived, in order.
        """
        ids = await self.say(4)
        complete, got, values = await self.page(rsm(5))
        self.assertEqual(ids, got)
        self.assertEqual("4", values["count"])

    async def test_discoAdvertisesMAM(self):
        """
        MAM-2, AMB-37: the channel's disco#info advertises both
        C{urn:xmpp:mam:2} and C{urn:xmpp:mam:1}.
        """
        response = await self.h.iq(
            "<iq type='get' id='d1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, COVEN, NS_DISCO_INFO))
        features = set(f["var"] for f in response.query.elements(
            NS_DISCO_INFO, "feature"))
        self.assertIn(NS_MAM2, features)
        self.assertIn(NS_MAM1, features)

    # MAM-3: result shape

    async def test_resultShapeMAM2(self):
        """
        MAM-3, MAM-7: results in C{urn:xmpp:mam:2}, queryid echoed, the
        archived stanza forwarded in C{jabber:client} with a XEP-0082 UTC
        delay stamp; fin in the same namespace, complete, RSM
        first/last/count.
        """
        ids = await self.say(2)
        response, results = await self.query(rsm(5), namespace=NS_MAM2,
                                             queryId="f27")
        self.assertEqual(2, len(results))
        for message, archiveId in zip(results, ids):
            self.assertEqual(HAG66_FULL, message["to"])
            self.assertEqual(COVEN, message["from"])
            result = child(message, NS_MAM2, "result")
            self.assertEqual("f27", result["queryid"])
            self.assertEqual(archiveId, result["id"])
            forwarded = child(result, NS_FORWARD, "forwarded")
            delay = child(forwarded, NS_DELAY, "delay")
            self.assertTrue(STAMP_RE.match(delay["stamp"]), delay["stamp"])
            inner = child(forwarded, NS_CLIENT, "message")
            self.assertIsNotNone(inner, forwarded.toXml())
            self.assertEqual(archiveId, inner["id"])
            self.assertIsNotNone(child(inner, NS_CLIENT, "body"))
        self.assertEqual("2017-07-14T02:40:00Z", child(child(
            child(results[0], NS_MAM2, "result"), NS_FORWARD, "forwarded"),
            NS_DELAY, "delay")["stamp"])
        fin = self.fin(response, NS_MAM2)
        self.assertEqual("true", fin["complete"])
        self.assertEqual({"first": ids[0], "last": ids[1], "count": "2"},
                         self.rsmOf(fin))
        self.assertEqual(COVEN, response["from"])
        self.assertEqual(HAG66_FULL, response["to"])

    async def test_resultShapeMAM1(self):
        """
        MAM-3, AMB-37: a query in C{urn:xmpp:mam:1} is answered in
        C{urn:xmpp:mam:1} (results and fin).
        """
        ids = await self.say(1)
        response, results = await self.query(
            submitForm(formType=NS_MAM1) + rsm(5), namespace=NS_MAM1,
            queryId="q1")
        self.assertEqual(1, len(results))
        result = child(results[0], NS_MAM1, "result")
        self.assertIsNotNone(result, results[0].toXml())
        self.assertEqual("q1", result["queryid"])
        self.assertEqual(ids, [result["id"]])
        self.assertNotIn(NS_MAM2, results[0].toXml())
        fin = self.fin(response, NS_MAM1)
        self.assertEqual("true", fin["complete"])
        self.assertIsNone(child(response, NS_MAM2, "fin"))

    async def test_noQueryIdNoAttribute(self):
        """
        MAM-3: without a queryid on the query, results carry none.
        """
        await self.say(2)
        response, results = await self.query(rsm(5))
        self.assertEqual(2, len(results))
        for message in results:
            self.assertIsNone(
                child(message, NS_MAM2, "result").getAttribute("queryid"))

    async def test_resultsBeforeFin(self):
        """
        MAM-3: every result message is sent before the IQ result with the
        fin.
        """
        await self.say(3)
        await self.h.receive("<iq type='set' id='o1' from='%s' to='%s'>"
                             "<query xmlns='%s'/></iq>" % (HAG66_FULL, COVEN,
                                                           NS_MAM2))
        out = self.h.take()
        self.assertEqual(["message"] * 3 + ["iq"], [s.name for s in out])
        self.assertEqual("o1", out[-1]["id"])

    # Paging

    async def test_paging(self):
        """
        MAM-3 (XEP-0059): seven messages, max=3: pages of 3, 3 and 1 by
        after=last; complete only on the last page; count is the total.
        """
        ids = await self.say(7)
        complete, got, values = await self.page(rsm(3))
        self.assertEqual(("false", ids[:3]), (complete, got))
        self.assertEqual({"first": ids[0], "last": ids[2], "count": "7"},
                         values)
        complete, got, values = await self.page(rsm(3, after=values["last"]))
        self.assertEqual(("false", ids[3:6]), (complete, got))
        self.assertEqual({"first": ids[3], "last": ids[5], "count": "7"},
                         values)
        complete, got, values = await self.page(rsm(3, after=values["last"]))
        self.assertEqual(("true", ids[6:]), (complete, got))
        self.assertEqual({"first": ids[6], "last": ids[6], "count": "7"},
                         values)

    async def test_beforeEmptyLastPage(self):
        """
        MAM-3 (XEP-0059 2.5): an empty C{<before/>} asks for the last page.
        """
        ids = await self.say(7)
        complete, got, values = await self.page(rsm(3, before=""))
        self.assertEqual(ids[4:], got)
        self.assertEqual("false", complete)
        self.assertEqual("7", values["count"])
        self.assertEqual(ids[4], values["first"])
        self.assertEqual(ids[6], values["last"])

    async def test_beforeId(self):
        """
        MAM-3 (XEP-0059): C{before} an id gives the page preceding it;
        reaching the start of the archive is complete.
        """
        ids = await self.say(7)
        complete, got, values = await self.page(rsm(2, before=ids[5]))
        self.assertEqual(ids[3:5], got)
        self.assertEqual("false", complete)
        complete, got, values = await self.page(rsm(3, before=ids[3]))
        self.assertEqual(ids[:3], got)
        self.assertEqual("true", complete)

    async def test_maxClamped(self):
        """
        MAM-3: a max above the configured maxMAMPage (5) is clamped; with
        no max the page is maxMAMPage long.
        """
        ids = await self.say(7)
        complete, got, values = await self.page(rsm(100))
        self.assertEqual(ids[:5], got)
        self.assertEqual("false", complete)
        complete, got, values = await self.page("")
        self.assertEqual(ids[:5], got)

    async def test_maxZeroCountOnly(self):
        """
        MAM-3 (XEP-0059 2.7): max=0 returns no results, only the count.
        """
        await self.say(3)
        complete, got, values = await self.page(rsm(0))
        self.assertEqual([], got)
        self.assertEqual({"first": None, "last": None, "count": "3"}, values)

    async def test_unknownAfter(self):
        """
        MAM-3, ERR-7: C{after} naming an unknown id is C{item-not-found}.
        """
        await self.say(2)
        response, results = await self.query(
            rsm(3, after="0005543DF729C000-DEADBEEF"))
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual([], results)

    async def test_unknownBefore(self):
        """
        MAM-3, ERR-7: C{before} naming an unknown id is C{item-not-found}.
        """
        await self.say(2)
        response, results = await self.query(rsm(3, before="no-such-id"))
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual([], results)

    async def test_malformedMax(self):
        """
        MAM-3, ERR-7: a non-numeric or negative max is C{bad-request}.
        """
        await self.say(1)
        for value in ("lots", "-1"):
            response, results = await self.query(rsm(value))
            self.assertError(response, "modify", "bad-request")
            self.assertEqual([], results)

    async def test_unknownChannel(self):
        """
        MAM-3, ERR-7: a query to a channel that does not exist is
        C{item-not-found}.
        """
        response, results = await self.query(
            rsm(3), channel="nosuch@" + DOMAIN)
        self.assertError(response, "cancel", "item-not-found")
        self.assertEqual([], results)

    # Filters

    async def test_malformedWith(self):
        """
        MAM-3, ERR-7: a C{with} value that is not a JID is C{bad-request}.
        """
        await self.say(1)
        response, results = await self.query(
            submitForm(("with", "a@b@c"), formType=NS_MAM2))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual([], results)

    async def test_startEndInclusive(self):
        """
        MAM-3 (XEP-0313 4.1.1): C{start} and C{end} filter by archive time,
        both bounds inclusive; a zone offset is understood.
        """
        ids = await self.say(4, advance=10)
        complete, got, values = await self.page(
            submitForm(("start", "2017-07-14T02:40:10Z"),
                       ("end", "2017-07-14T02:40:20Z"), formType=NS_MAM2))
        self.assertEqual(ids[1:3], got)
        self.assertEqual("2", values["count"])
        self.assertEqual("true", complete)
        complete, got, values = await self.page(
            submitForm(("start", "2017-07-14T04:40:20+02:00"),
                       formType=NS_MAM2))
        self.assertEqual(ids[2:], got)
        complete, got, values = await self.page(
            submitForm(("end", "2017-07-14T02:40:09.999Z"), formType=NS_MAM2))
        self.assertEqual(ids[:1], got)

    async def test_malformedStart(self):
        """
        MAM-3, ERR-7: a malformed C{start} (not XEP-0082, or without time
        zone) is C{bad-request}.
        """
        for value in ("yesterday", "2017-07-14T02:40:10"):
            response, results = await self.query(
                submitForm(("start", value), formType=NS_MAM2))
            self.assertError(response, "modify", "bad-request")
            self.assertEqual([], results)

    async def test_withFilter(self):
        """
        MAM-3 (DEC): C{with} matches the sender's proxy JID.
        """
        hecateProxy = (await self.h.join(HECATE)).firstChildElement()["jid"]
        await self.h.setnick(HECATE_FULL, "hecate")
        self.h.take()
        mine = await self.say(1)
        theirs = await self.say(2, sender=HECATE_FULL)
        mine += await self.say(1)
        complete, got, values = await self.page(
            submitForm(("with", hecateProxy), formType=NS_MAM2))
        self.assertEqual(theirs, got)
        complete, got, values = await self.page(
            submitForm(("with", self.hagProxy), formType=NS_MAM2))
        self.assertEqual(mine, got)

    async def test_countLeftOutBeyondLimit(self):
        """
        MAM-3, XEP-0059 §2.6: a query with filters matching more than
        C{paging.COUNT_LIMIT} entries has C{<first/>} and C{<last/>} but no
        C{<count/>} (counting would cost as much as reading them all);
        within the limit, or without filters, the count is there.
        """
        from mixtwisted.store import paging
        self.patch(paging, "COUNT_LIMIT", 2)
        ids = await self.say(3)
        complete, got, values = await self.page(rsm(2))
        self.assertEqual({"first": ids[0], "last": ids[1], "count": "3"},
                         values)
        withHag = submitForm(("with", self.hagProxy), formType=NS_MAM2)
        complete, got, values = await self.page(withHag + rsm(2))
        self.assertEqual(("false", ids[:2]), (complete, got))
        self.assertEqual({"first": ids[0], "last": ids[1], "count": None},
                         values)
        complete, got, values = await self.page(withHag + rsm(0))
        self.assertEqual({"first": None, "last": None, "count": None},
                         values)
        complete, got, values = await self.page(withHag + rsm(2, ids[0]))
        self.assertEqual(("true", ids[1:]), (complete, got))
        self.assertEqual(None, values["count"])
        future = submitForm(("with", self.hagProxy),
                            ("start", "2100-01-01T00:00:00Z"),
                            formType=NS_MAM2)
        complete, got, values = await self.page(future + rsm(2))
        self.assertEqual({"first": None, "last": None, "count": "0"},
                         values)

    async def test_unknownField(self):
        """
        MAM-3, ERR-7: an unknown form field is C{bad-request}.
        """
        await self.say(1)
        response, results = await self.query(
            submitForm(("colour", "red"), formType=NS_MAM2))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual([], results)

    async def test_wrongFormType(self):
        """
        MAM-3, ERR-7: a form whose FORM_TYPE is not a MAM namespace is
        C{bad-request}.
        """
        await self.say(1)
        response, results = await self.query(submitForm(formType=NS_MIX))
        self.assertError(response, "modify", "bad-request")
        self.assertEqual([], results)

    # Access

    async def test_nonParticipantForbidden(self):
        """
        MAM-5, AMB-48: with the default configuration a non-participant
        may not query the archive: C{forbidden}.
        """
        await self.say(1)
        response, results = await self.query(rsm(5), requester=CAT_FULL)
        self.assertError(response, "auth", "forbidden")
        self.assertEqual([], results)
        self.assertEqual(CAT_FULL, response["to"])
        self.assertEqual(COVEN, response["from"])

    async def test_historyBeforeJoin(self):
        """
        MAM-5: a participant reads history sent before they joined.
        """
        ids = await self.say(2)
        await self.h.join(HECATE)
        self.h.take()
        response, results = await self.query(rsm(5), requester=HECATE_FULL)
        self.fin(response)
        self.assertEqual(ids, self.resultIds(results))
        for message in results:
            self.assertEqual(HECATE_FULL, message["to"])

    async def test_serviceJID(self):
        """
        MAM-6: MAM is not offered on the service JID:
        C{service-unavailable}.
        """
        await self.say(1)
        response = await self.h.iq(
            "<iq type='set' id='s1' from='%s' to='%s'>"
            "<query xmlns='%s'/></iq>" % (HAG66_FULL, DOMAIN, NS_MAM2))
        self.assertError(response, "cancel", "service-unavailable")
        self.assertEqual([], self.h.take())

    async def test_archivedHasNoSubmissionId(self):
        """
        MAM-7, MSG-4: the archived message carries no C{<submission-id/>}
        and no C{to}.
        """
        await self.say(1)
        response, results = await self.query(rsm(5))
        inner = child(child(child(results[0], NS_MAM2, "result"),
                            NS_FORWARD, "forwarded"), NS_CLIENT, "message")
        self.assertNotIn("submission-id", inner.toXml())
        self.assertIsNone(inner.getAttribute("to"))
        self.assertIsNotNone(child(inner, NS_MIX, "mix"))

    async def test_queryForm(self):
        """
        MAM-3 (XEP-0313 4.1.1): an IQ get of the query returns the form
        with FORM_TYPE, with, start and end.
        """
        for namespace in (NS_MAM2, NS_MAM1):
            response = await self.h.iq(
                "<iq type='get' id='g1' from='%s' to='%s'>"
                "<query xmlns='%s'/></iq>" % (HAG66_FULL, COVEN, namespace))
            self.assertResult(response)
            query = child(response, namespace, "query")
            x = child(query, NS_DATA, "x")
            self.assertEqual("form", x["type"])
            fields = dict((f["var"], f) for f in x.elements(NS_DATA, "field"))
            for var in ("FORM_TYPE", "with", "start", "end"):
                self.assertIn(var, fields)
            self.assertEqual(namespace, str(child(fields["FORM_TYPE"],
                                                  NS_DATA, "value")))

    async def test_nodeArchive(self):
        """
        MAM-4: a participant's query on the participants node archive is
        answered with a fin (possibly empty), in the query's namespace.
        """
        response, results = await self.query(rsm(5), node=NODE_PARTICIPANTS)
        fin = self.fin(response)
        self.assertIn(fin.getAttribute("complete"), ("true", "false"))
        self.assertIsNotNone(child(fin, NS_RSM, "set"))
        for message in results:
            self.assertIsNotNone(child(message, NS_MAM2, "result"))


class MAMMemoryTests(MemoryStoreMixin, MAMTestsMixin, unittest.TestCase):
    pass


class MAMPgsqlTests(PgsqlStoreMixin, MAMTestsMixin, unittest.TestCase):
    pass


class ArchiveIdTests(unittest.TestCase):
    """
    Archive ids and date-times (MSG-5, MAM-7, AMB-45).
    """

    def test_increasingWithinTick(self):
        """
        MAM-7: ids made within one clock tick strictly increase and are
        unique.
        """
        clock = Clock()
        clock.advance(T0)
        gen = ArchiveIdGenerator(clock)
        ids = [gen.next()[0] for _ in range(50)]
        self.assertEqual(sorted(ids), ids)
        self.assertEqual(50, len(set(ids)))

    def test_clockBackwards(self):
        """
        MAM-7: a clock stepping backwards does not make ids go backwards.
        """
        clock = Clock()
        clock.advance(T0 + 100)
        gen = ArchiveIdGenerator(clock)
        first = gen.next()[0]
        clock.rightNow = T0
        second = gen.next()[0]
        self.assertLess(first, second)

    def test_resumeAfterLast(self):
        """
        MAM-7: a generator resumed after a stored id issues greater ids.
        """
        clock = Clock()
        clock.advance(T0)
        stored = "%016X-ABCDEF01" % ((T0 + 3600) * 1000000,)
        gen = ArchiveIdGenerator(clock, stored)
        self.assertLess(stored, gen.next()[0])
        self.assertEqual((T0 + 3600) * 1000000, parseArchiveId(stored))

    def test_formatDateTime(self):
        """
        AMB-45: XEP-0082 UTC date-time with Z; fractions kept.
        """
        self.assertEqual("2017-07-14T02:40:00Z", formatDateTime(T0))
        self.assertEqual("2017-07-14T02:40:00.500000Z",
                         formatDateTime(T0 + 0.5))

    def test_parseDateTime(self):
        """
        AMB-45: zones are understood and required.
        """
        self.assertEqual(T0, parseDateTime("2017-07-14T02:40:00Z"))
        self.assertEqual(T0, parseDateTime("2017-07-14T04:40:00+02:00"))
        self.assertRaises(ValueError, parseDateTime, "2017-07-14T02:40:00")
        self.assertRaises(ValueError, parseDateTime, "garbage")


class NodeArchiveTestsMixin(SmallChannelMixin):
    """
    Archives of other nodes: the jidmap (VIS-7) and the configuration and
    information history (MAM-4, MAM-8).
    """

    async def nodeResults(self, requester, node, body=""):
        response, results = await mamQuery(self.h, requester, body, node=node)
        items = []
        for message in results:
            forwarded = child(child(message, NS_MAM2, "result"),
                              NS_FORWARD, "forwarded")
            inner = child(forwarded, NS_CLIENT, "message")
            event = child(inner, NS_PUBSUB_EVENT, "event")
            items.append(child(child(event, NS_PUBSUB_EVENT, "items"),
                               NS_PUBSUB_EVENT, "item"))
        return response, items

    async def test_jidmapOfDepartedParticipant(self):
        """
        VIS-7, MAM-4: the real JID behind a proxy JID that is no longer
        current is found in the jidmap node's archive, by item id (the
        non-standard C{id} field, AMB-37), by an owner.
        """
        proxy = (await self.h.join(HECATE)).firstChildElement()["jid"]
        await self.h.leave(HECATE)
        self.h.take()
        response, items = await self.nodeResults(
            HAG66_FULL, NODE_JIDMAP,
            submitForm(("id", proxy), formType=NS_MAM2))
        self.assertEqual("result", response["type"], response.toXml())
        self.assertEqual([(proxy, HECATE)], [
            (i["id"], str(child(child(i, NS_MIX, "participant"),
                                NS_MIX, "jid"))) for i in items])

    async def test_jidmapArchiveHiddenFromParticipants(self):
        """
        VIS-5, VIS-6, MAM-5: in a jid-hidden channel a participant may not
        read the jidmap archive.
        """
        await self.h.join(HECATE)
        self.h.take()
        response, items = await self.nodeResults(HECATE_FULL, NODE_JIDMAP)
        self.assertEqual(("auth", "forbidden"), errorCondition(response))
        self.assertEqual([], items)

    async def test_jidmapArchiveAdminsOnlyInVisibleChannel(self):
        """
        VIS-6, VIS-7, D-22: the jidmap archive holds the JIDs of everyone
        who ever took part, also while the channel hid them: when the
        channel turns jid-visible its participants read the live jidmap
        but not its archive.
        """
        self.assertResult(await self.h.join(CAT, extra=submitForm(
            ("JID Visibility", "never"))))
        await self.h.join(HECATE)
        self.assertResult(await self.h.iq(
            "<iq type='set' id='p' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG, submitForm(
                ("JID Visibility", "jid-visible")))))
        self.h.take()
        response, items = await self.nodeResults(HECATE_FULL, NODE_JIDMAP)
        self.assertEqual(("auth", "forbidden"), errorCondition(response))
        self.assertNotIn(CAT, response.toXml())
        live = await self.h.iq(
            "<iq type='get' id='l' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<items node='%s'/></pubsub></iq>"
            % (HECATE_FULL, COVEN, NS_PUBSUB, NODE_JIDMAP))
        self.assertEqual("result", live["type"])
        self.assertNotIn(CAT, live.toXml())

    async def test_configHistory(self):
        """
        MAM-8: configuration changes are archived in the config node's
        archive, readable by those who may read the node; they do not
        appear in the messages archive.
        """
        before = await archiveCount(self.h)
        self.assertResult(await self.h.iq(
            "<iq type='set' id='p' from='%s' to='%s'><pubsub xmlns='%s'>"
            "<publish node='%s'>%s</publish></pubsub></iq>"
            % (HAG66_FULL, COVEN, NS_PUBSUB, NODE_CONFIG, submitForm(
                ("Private Messages", "false")))))
        self.h.take()
        response, items = await self.nodeResults(HAG66_FULL, NODE_CONFIG)
        self.assertEqual(1, len(items), response.toXml())
        self.assertIn("Private Messages", items[0].toXml())
        self.assertEqual(before, await archiveCount(self.h))


class NodeArchiveMemoryTests(MemoryStoreMixin, NodeArchiveTestsMixin,
                             unittest.TestCase):
    pass


class NodeArchivePgsqlTests(PgsqlStoreMixin, NodeArchiveTestsMixin,
                            unittest.TestCase):
    pass
