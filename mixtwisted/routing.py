"""
How channel traffic is addressed to a user: to the bare JID, or to the
full JIDs of the user's online clients (issue 6).

XEP-0369 §7 has the channel send messages and presence to the
participant's I{bare} JID; the participant's server (MIX-PAM) hands them
to the user's clients.  Servers without MIX support do not: Prosody 0.12
bounces a groupchat message to a bare JID (RFC 6121 §8.5.2.1.1), and
ejabberd 23.01's PAM filter bounces messages whose C{<mix/>} is
namespaced (see C{doc/interop.md}).  For users of such servers the channel
does what a MUC room does: it sends to the full JIDs of the clients it
knows are online, from the presence they sent to the channel (the
presence node's items carry the client's real full JID).

Three modes, per user domain:

 - L{BARE}: the spec's way, one copy to the bare JID;
 - L{FULL}: one copy per online client (full JID); a user with no online
   client gets nothing live (its MAM catch-up covers it);
 - L{AUTO}: ask the user's domain once (disco#info from the service
   domain) and use L{BARE} when it advertises one of L{PAM_FEATURES},
   else L{FULL}.  Only a disco#info I{result} decides: L{BARE} is cached
   for L{POSITIVE_TTL} seconds, L{FULL} for L{NEGATIVE_TTL}.  An error
   answer or no answer within L{TIMEOUT} (a domain briefly unreachable, a
   query lost while the component's stream was down) decides nothing: the
   previous decision, if any, holds, and the domain is asked again after
   L{RETRY_MIN} seconds, doubling up to L{RETRY_MAX}.  While a domain is
   unknown (never asked, or no result yet) the copy goes to the online
   clients' full JIDs when the user has any in the channel, else to the
   bare JID; after expiry, the old decision holds until the new answer.

Operators pin modes per domain (C{--delivery}); a pinned domain is never
asked.

The decision per recipient is one dictionary look-up on the hot path
(L{Routing.addresses}): decisions are cached per bare JID, and that cache
is emptied whenever a domain's decision changes (rarely).  Plain Python:
the disco query and reading its answer are done by an I{output} the
protocol layer provides (L{mixtwisted.handlers.routing.RoutingHandler}):

 - C{discoInfo(fromJID, to, iqId)}: send a disco#info query.
"""

import secrets
from collections import OrderedDict

from twisted.python import log

BARE = "bare"
FULL = "full"
AUTO = "auto"

#: The modes an operator may set.
MODES = (BARE, FULL, AUTO)

#: What a recipient is while its domain is unknown (L{AUTO}, not answered).
UNKNOWN = "unknown"

#: Features saying the user's server delivers MIX traffic sent to bare
#: JIDs: MIX-PAM (XEP-0405) and the account feature of XEP-0369 §7
#: (C{urn:xmpp:mix:account:0}), with the older PAM revision.
PAM_FEATURES = frozenset((
    "urn:xmpp:mix:pam:2",
    "urn:xmpp:mix:pam:0",
    "urn:xmpp:mix:account:0",
))

#: Seconds a domain found to support MIX is trusted.
POSITIVE_TTL = 3600.0

#: Seconds a domain found not to (a result without the features) is.
NEGATIVE_TTL = 600.0

#: Seconds before a domain that answered with an error, or not at all, is
#: asked again; doubled at each failure in a row, up to L{RETRY_MAX}.
RETRY_MIN = 60.0
RETRY_MAX = 3600.0

#: Seconds the disco#info query waits for its answer.
TIMEOUT = 30.0

#: Domains remembered at most; past that the oldest decision is forgotten.
MAX_DOMAINS = 10000

#: Bare JIDs whose decision is cached at most; past that the cache is
#: emptied (it is rebuilt from the domain decisions, one look-up each).
MAX_BARE = 100000

#: Queries in flight at most (one per domain); past that a domain stays
#: unknown until one ends.
MAX_PENDING = 1000


def domainOf(bare):
    """
    The domain of a bare JID string.
    """
    return bare[bare.find("@") + 1:]


class Routing:
    """
    Per user domain, how channel traffic is addressed.

    @param clock: the reactor (C{callLater}, C{seconds}), a C{Clock} in
        tests.
    @param domain: the service domain; queries go from it, and only
        answers to it count.
    @param default: the mode of domains without override.
    @param overrides: domain -> mode (L{BARE}, L{FULL} or L{AUTO}).
    @ivar output: the protocol layer's output (module docstring).
    """

    positiveTTL = POSITIVE_TTL
    negativeTTL = NEGATIVE_TTL
    timeout = TIMEOUT
    maxDomains = MAX_DOMAINS
    maxBare = MAX_BARE
    maxPending = MAX_PENDING
    retryMin = RETRY_MIN
    retryMax = RETRY_MAX

    def __init__(self, clock, domain, default=AUTO, overrides=None):
        if default not in MODES:
            raise ValueError("Unknown delivery mode %r" % (default,))
        overrides = dict(overrides or {})
        for mode in overrides.values():
            if mode not in MODES:
                raise ValueError("Unknown delivery mode %r" % (mode,))
        self.clock = clock
        self.domain = domain
        self.default = default
        self.overrides = overrides
        self.output = None
        #: Every copy goes to bare JIDs: nothing to decide.
        self.allBare = default == BARE and all(
            m == BARE for m in overrides.values())
        # bare JID -> BARE, FULL or UNKNOWN (the hot path's table)
        self._byBare = {}
        # domain -> (mode, expires at) of the domains asked (AUTO)
        self._decided = OrderedDict()
        # iq id -> (domain, timeout call); domain -> iq id
        self._pending = {}
        self._asking = {}
        # domain -> DelayedCall ending its decision's validity
        self._expiry = {}
        # domain -> (next ask at, last retry delay) of the domains whose
        # last query failed (an error or no answer)
        self._failed = {}
        #: Callables C{(domain, mode)} told when a domain's decision
        #: changes (L{BARE} or L{FULL}).
        self.changeHooks = []

    # The hot path

    def modeOf(self, bare):
        """
        Return how copies for C{bare} (a bare JID string) are addressed
        now: L{BARE}, L{FULL} or L{UNKNOWN} (asking its domain if needed).
        """
        mode = self._byBare.get(bare)
        if mode is None:
            mode = self._decide(bare)
        return mode

    def addresses(self, recipients, clients):
        """
        Return the addresses of the copies for C{recipients} (bare JIDs).

        @param clients: bare JID -> the real full JIDs of its online
            clients in the channel (the presence node's items).
        """
        if self.allBare:
            return recipients
        out = []
        byBare = self._byBare
        for bare in recipients:
            mode = byBare.get(bare)
            if mode is None:
                mode = self._decide(bare)
            if mode is BARE:
                out.append(bare)
            elif mode is FULL:
                full = clients.get(bare)
                if full:
                    out.extend(full)
            else:
                full = clients.get(bare)
                if full:
                    out.extend(full)
                else:
                    out.append(bare)
        return out

    def peek(self, bare):
        """
        Like L{modeOf}, but never asking the domain, nor caching anything:
        for stanzas from anyone (bounces), which must not be able to make
        the service send queries.
        """
        mode = self._byBare.get(bare)
        if mode is None:
            mode = self._domainMode(domainOf(bare), ask=False)
        return mode

    def toFullJIDs(self, bare, ask=True):
        """
        Tell whether copies for C{bare} may be going to its clients' full
        JIDs (L{FULL}, or L{UNKNOWN}): a bounce from a client's full JID is
        then that client gone, not a transient failure of the path.

        @param ask: C{False} to never ask the domain (L{peek}).
        """
        if self.allBare:
            return False
        mode = self.modeOf(bare) if ask else self.peek(bare)
        return mode is not BARE

    def _decide(self, bare):
        """
        The slow path: the decision for C{bare} from its domain's, cached.
        """
        mode = self._domainMode(domainOf(bare))
        byBare = self._byBare
        if len(byBare) >= self.maxBare:
            byBare.clear()
        byBare[bare] = mode
        return mode

    def _domainMode(self, domain, ask=True):
        mode = self.overrides.get(domain, self.default)
        if mode != AUTO:
            return BARE if mode == BARE else FULL
        decided = self._decided.get(domain)
        now = self.clock.seconds()
        if decided is not None and decided[1] > now:
            return decided[0]
        failed = self._failed.get(domain)
        if ask and (failed is None or failed[0] <= now):
            # Never asked, expired, or due for a retry: asked (again), the
            # old decision holding meanwhile.
            self._ask(domain)
        return UNKNOWN if decided is None else decided[0]

    # Asking a domain

    def _ask(self, domain):
        if domain in self._asking or self.output is None or not domain or \
                len(self._pending) >= self.maxPending:
            return
        iqId = secrets.token_urlsafe(18)
        while iqId in self._pending:
            iqId = secrets.token_urlsafe(18)
        call = self.clock.callLater(self.timeout, self._timedOut, iqId)
        self._pending[iqId] = (domain, call)
        self._asking[domain] = iqId
        self.output.discoInfo(self.domain, domain, iqId)

    def _timedOut(self, iqId):
        pending = self._pending.get(iqId)
        if pending is None:
            return
        self._fail(iqId)

    def discoResponse(self, iqId, sender, recipient, features):
        """
        Take an answer to a domain query: only with the query's id, from
        exactly the domain asked, to exactly the service domain.

        @param sender, recipient: the response's C{from} and C{to}
            (prepared strings).
        @param features: the features of a result, or C{None} for an
            error.
        @return: C{True} when the response was ours (consumed).
        """
        pending = self._pending.get(iqId) if iqId else None
        if pending is None or sender != pending[0] or \
                recipient != self.domain:
            return False
        pending[1].cancel()
        if features is None:
            self._fail(iqId)
            return True
        mode = BARE if not PAM_FEATURES.isdisjoint(features) else FULL
        self._settle(iqId, mode)
        return True

    def _fail(self, iqId):
        """
        A query got an error or no answer: nothing is decided.  The
        previous decision (if any) holds, the domain is asked again after
        a delay growing at each failure in a row; meanwhile a domain never
        decided stays L{UNKNOWN}.
        """
        domain, call = self._pending.pop(iqId)
        if call.active():
            call.cancel()
        self._asking.pop(domain, None)
        failed = self._failed.get(domain)
        delay = self.retryMin if failed is None else \
            min(failed[1] * 2, self.retryMax)
        if failed is None and len(self._failed) >= self.maxDomains:
            self._failed.clear()
        self._failed[domain] = (self.clock.seconds() + delay, delay)
        log.msg("Delivery to users of %s: its disco#info failed, asking "
                "again in %.0f s" % (domain, delay))
        expiry = self._expiry.pop(domain, None)
        if expiry is not None and expiry.active():
            expiry.cancel()
        self._expiry[domain] = self.clock.callLater(delay, self._expired,
                                                    domain)

    def _settle(self, iqId, mode):
        domain, call = self._pending.pop(iqId)
        if call.active():
            call.cancel()
        self._asking.pop(domain, None)
        self._failed.pop(domain, None)
        ttl = self.positiveTTL if mode == BARE else self.negativeTTL
        old = self._decided.pop(domain, None)
        while len(self._decided) >= self.maxDomains:
            self._forget(next(iter(self._decided)))
        self._decided[domain] = (mode, self.clock.seconds() + ttl)
        expiry = self._expiry.pop(domain, None)
        if expiry is not None and expiry.active():
            expiry.cancel()
        self._expiry[domain] = self.clock.callLater(ttl, self._expired,
                                                    domain)
        if old is None or old[0] != mode:
            log.msg("Delivery to users of %s: %s JIDs%s" % (
                domain, mode, "" if old is None else
                " (was %s)" % (old[0],)))
        # Recomputed from the domain decisions on the next look-ups.
        self._byBare.clear()
        if old is None or old[0] != mode:
            for hook in self.changeHooks:
                try:
                    hook(domain, mode)
                except Exception:
                    log.err(None, "Could not take a change of delivery "
                            "mode")

    def _expired(self, domain):
        """
        A decision is too old: the next look-up of one of the domain's
        users asks again (the old decision holding until the answer).
        """
        self._expiry.pop(domain, None)
        self._byBare.clear()

    def _forget(self, domain):
        self._decided.pop(domain, None)
        self._failed.pop(domain, None)
        expiry = self._expiry.pop(domain, None)
        if expiry is not None and expiry.active():
            expiry.cancel()

    def pendingQueries(self):
        """
        The number of domain queries waiting for their answer.
        """
        return len(self._pending)
