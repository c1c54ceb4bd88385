"""
A small DNS server for the end-to-end tests, so that two XMPP servers run
by one test find each other for server-to-server (s2s) traffic without
touching the machine's name resolution (no C{/etc/hosts}, no system
resolver) and without fixed ports.

L{LoopbackDNS} listens on a free UDP port of 127.0.0.1, in the test
process (Twisted's reactor), and knows only what the test told it: for
every XMPP domain given to L{LoopbackDNS.addXMPPServer}, the SRV record
C{_xmpp-server._tcp.DOMAIN} (RFC 6120 section 3.2.1) pointing at the
server's s2s port on the target C{127.0.0.1}.  The target is the address
written as a name, not a host name with an A record, because ejabberd
23.01 (p1_xmpp 1.6.1) looks a target's address up with the C library
(C{net:getaddrinfo}), which only the system's configuration reaches; an
address literal needs no lookup there, and Prosody connects to it
directly too.  So the servers only ever ask for SRV records.  Any other
question gets NXDOMAIN (a server that found no SRV record would try the
domain's address on port 5269: nothing the test runs).  It answers
authoritatively, echoes the query's flags (Erlang's resolver drops an
answer whose C{rd} flag differs from its query's, which Twisted's own
C{DNSServerFactory} sends), and keeps every question it was asked
(L{LoopbackDNS.queries}) for failure messages.

The servers are pointed at it by their own configuration (see
C{servers.py}): Prosody's libunbound resolver (C{unbound = { forward =
"127.0.0.1@PORT" ... }}) and ejabberd's Erlang resolver (an C{inetrc}
file with C{{nameserver, {127,0,0,1}, PORT}}).
"""

from twisted.internet import protocol, reactor
from twisted.names import dns


class _DNSProtocol(protocol.DatagramProtocol):
    """
    Answers each UDP query from L{LoopbackDNS}'s records.
    """

    def __init__(self, owner):
        self.owner = owner

    def datagramReceived(self, data, address):
        query = dns.Message()
        try:
            query.fromStr(data)
        except Exception:
            return
        if query.answer or not query.queries:
            return
        self.transport.write(self.owner.respond(query).toStr(), address)


class LoopbackDNS:
    """
    DNS for the XMPP domains of one test, on 127.0.0.1.

    @ivar port: the UDP port it listens on, once started.
    @ivar queries: the questions received, as C{"NAME TYPE"} strings.
    """

    TTL = 60

    #: Where every server listens.
    ADDRESS = "127.0.0.1"

    def __init__(self):
        self.records = {}
        self.queries = []
        self.port = None
        self._listening = None

    def addXMPPServer(self, domain, s2sPort):
        """
        Say that the server of C{domain} takes s2s connections on
        127.0.0.1:C{s2sPort}.
        """
        self.records.setdefault(
            "_xmpp-server._tcp." + domain.lower(), []).append(
                (dns.SRV, dns.Record_SRV(0, 0, s2sPort, self.ADDRESS,
                                         ttl=self.TTL)))

    def respond(self, query):
        """
        The response to C{query} (a L{dns.Message}).
        """
        question = query.queries[0]
        name = question.name.name.decode("ascii", "replace").rstrip(".")
        self.queries.append("%s %s" % (
            name, dns.QUERY_TYPES.get(question.type, question.type)))
        response = dns.Message(
            id=query.id, answer=1, opCode=query.opCode, auth=1,
            recDes=query.recDes, recAv=1)
        response.queries = [question]
        known = self.records.get(name.lower())
        if known is None or question.cls != dns.IN:
            response.rCode = dns.ENAME
            return response
        response.answers = [
            dns.RRHeader(question.name.name, kind, dns.IN, self.TTL,
                         record, auth=True)
            for kind, record in known
            if question.type in (kind, dns.ALL_RECORDS)]
        return response

    def start(self):
        """
        Listen on a free UDP port of 127.0.0.1.
        """
        self._listening = reactor.listenUDP(0, _DNSProtocol(self),
                                            interface="127.0.0.1")
        self.port = self._listening.getHost().port
        return self

    def stop(self):
        """
        Stop listening; never fails.
        """
        if self._listening is None:
            return None
        listening, self._listening = self._listening, None
        return listening.stopListening()

    def describe(self):
        """
        What it was asked, for failure messages.
        """
        return "--- DNS on 127.0.0.1:%s (%d questions) ---\n%s" % (
            self.port, len(self.queries), "\n".join(self.queries[-40:]))
