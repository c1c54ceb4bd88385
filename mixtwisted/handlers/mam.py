"""
The channel's MAM archive (XEP-0313 C{urn:xmpp:mam:2} and C{:1}, with
XEP-0059 paging): MAM-1..7.

A query is answered in the namespace it was asked in (AMB-37): one
C{<message/>} per archived entry, each wrapping the archived stanza in
C{<forwarded/>} with its C{<delay/>}, then the IQ result with C{<fin/>}.
The result messages are assembled from the stored serialization, so an
archived stanza is never parsed again.

The archive keeps the C{urn:xmpp:mix:1} form of its messages (XEP-0369
0.9.5).  A requester whose participant revision is
C{urn:xmpp:mix:core:1} reads the messages archive in that revision's form
(REV-14, L{mixtwisted.revisions.toCore1}: string splices per entry);
non-participants read the default revision (REV-16), and node archives
(MAM-4) are served as stored to everyone.
"""

from twisted.internet import defer
from twisted.words.xish import domish
from twisted.words.xish.domish import escapeToXml

from mixtwisted import namespaces as ns
from mixtwisted.errors import BadRequest, ServiceUnavailable
from mixtwisted.handlers.base import MIXIQHandler, parseJID, payload
from mixtwisted.handlers.render import findForm
from mixtwisted.ids import formatDateTime, parseDateTime
from mixtwisted.records import ArchiveQuery
from mixtwisted.revisions import archivedFor

_QUERY = '/iq[@type="%s"]/query[@xmlns="' + ns.NS_MAM2 + \
    '" or @xmlns="' + ns.NS_MAM1 + '"]'

#: Filter fields we understand (the C{id} field serves node archives, MAM-4).
_FIELDS = ("start", "end", "with", "id")


def _attr(value):
    return escapeToXml(value, True)


def resultMessage(namespace, requester, channelJID, queryId, entry,
                  revision=ns.DEFAULT_REVISION):
    """
    Serialize the C{<message/>} carrying one archived entry (MAM-3), in
    the form of the requester's protocol C{revision} (REV-14).

    The archived stanza was stored in the stream's default namespace;
    inside C{<forwarded/>} it is put in C{jabber:client}.
    """
    inner = archivedFor(revision, entry.xml, channelJID)
    cut = len("<message")
    inner = inner[:cut] + " xmlns='jabber:client'" + inner[cut:]
    query = " queryid='%s'" % (_attr(queryId),) if queryId else ""
    return (
        "<message to='%s' from='%s'>"
        "<result xmlns='%s'%s id='%s'>"
        "<forwarded xmlns='%s'><delay xmlns='%s' stamp='%s'/>%s</forwarded>"
        "</result></message>" % (
            _attr(requester), _attr(channelJID), namespace, query,
            _attr(entry.archiveId), ns.NS_FORWARD, ns.NS_DELAY,
            formatDateTime(entry.stamp), inner))


class MAMHandler(MIXIQHandler):
    """
    Answer MAM queries addressed to a channel.
    """

    iqHandlers = {_QUERY % "set": "_onQuery", _QUERY % "get": "_onFields"}

    def _channelName(self, iq):
        sender, recipient = self.addresses(iq)
        if recipient.user is None:
            # MAM lives on channels, not on the service (MAM-6).
            raise ServiceUnavailable("MAM is served by channels")
        return sender, self.channelName(recipient)

    @staticmethod
    def _query(iq):
        for namespace in ns.NS_MAM:
            for element in iq.elements(namespace, "query"):
                return element
        return payload(iq, ns.NS_MAM2, "query")

    def _onFields(self, iq):
        """
        Return the query form with the fields we filter on.
        """
        self._channelName(iq)
        namespace = self._query(iq).uri
        query = domish.Element((namespace, "query"))
        form = query.addElement((ns.NS_DATA, "x"))
        form["type"] = "form"
        formType = form.addElement("field")
        formType["var"], formType["type"] = "FORM_TYPE", "hidden"
        formType.addElement("value", content=namespace)
        for var, kind in (("with", "jid-single"), ("start", "text-single"),
                          ("end", "text-single"), ("id", "text-multi")):
            field = form.addElement("field")
            field["var"], field["type"] = var, kind
        return query

    def parseQuery(self, element):
        """
        Turn a C{<query/>} into an L{ArchiveQuery} (filters and paging).
        """
        limits = self.channels.limits
        query = ArchiveQuery(node=ns.canonicalNode(
            element.getAttribute("node") or ns.NODE_MESSAGES))
        form = findForm(element)
        if form is not None:
            for field in form.elements(ns.NS_DATA, "field"):
                var = field.getAttribute("var")
                values = [str(v).strip()
                          for v in field.elements(ns.NS_DATA, "value")]
                if var == "FORM_TYPE":
                    if values and values[0] not in ns.NS_MAM:
                        raise BadRequest("Unexpected FORM_TYPE")
                    continue
                if var not in _FIELDS:
                    raise BadRequest("Unsupported filter %r" % (var,))
                if not values or not values[0]:
                    continue
                if var in ("start", "end"):
                    try:
                        stamp = parseDateTime(values[0])
                    except ValueError:
                        raise BadRequest("Malformed %s" % (var,))
                    setattr(query, var, stamp)
                elif var == "with":
                    query.with_ = parseJID(values[0]).userhost()
                else:
                    query.ids = tuple(values)
        rsm = None
        for child in element.elements(ns.NS_RSM, "set"):
            rsm = child
        query.maximum = limits.maxMAMPage
        if rsm is not None:
            for child in rsm.elements(ns.NS_RSM, "max"):
                try:
                    maximum = int(str(child).strip())
                except ValueError:
                    raise BadRequest("Malformed max")
                if maximum < 0:
                    raise BadRequest("Negative max")
                query.maximum = min(maximum, limits.maxMAMPage)
            for child in rsm.elements(ns.NS_RSM, "after"):
                query.after = str(child).strip() or None
            for child in rsm.elements(ns.NS_RSM, "before"):
                query.before = str(child).strip()
        return query

    @defer.inlineCallbacks
    def _revisionOf(self, name, requester, node):
        """
        The revision whose form the requester reads the archive of C{node}
        in: its participant revision for the messages archive (REV-14;
        the default for non-participants, REV-16), the stored form for
        node archives (MAM-4).
        """
        if node != ns.NODE_MESSAGES:
            return ns.DEFAULT_REVISION
        return (yield self.channels.revisionOf(name, requester.userhost()))

    @defer.inlineCallbacks
    def _onQuery(self, iq):
        sender, name = self._channelName(iq)
        element = self._query(iq)
        namespace = element.uri
        query = self.parseQuery(element)
        result = yield self.channels.queryArchive(sender, name, query)
        revision = yield self._revisionOf(name, sender, query.node)
        channelJID = self.channels.channelJID(name)
        queryId = element.getAttribute("queryid")
        requester = iq["from"]
        for entry in result.messages:
            self.send(resultMessage(namespace, requester, channelJID,
                                    queryId, entry, revision))
        fin = domish.Element((namespace, "fin"))
        fin["complete"] = "true" if result.complete else "false"
        rsm = fin.addElement((ns.NS_RSM, "set"))
        if result.messages:
            rsm.addElement("first", content=result.messages[0].archiveId)
            rsm.addElement("last", content=result.messages[-1].archiveId)
        if result.count is not None:
            # Left out when the store did not count (more than
            # paging.COUNT_LIMIT entries match filters): XEP-0059 §2.6.
            rsm.addElement("count", content=str(result.count))
        return fin
