"""
The read cache of the pgsql store: answers for the reads on the message
path, kept coherent by the store's own writes.
"""

from collections import OrderedDict

#: What L{ReadCache.get} returns for a key it does not hold.
MISSING = object()


class ReadCache:
    """
    A bounded least-recently-used map of read answers.

    Every entry has a key and belongs to scopes (its channel; the
    subscribers of one node also to the subscriptions of the channel).  A
    write names the keys and scopes it changes in L{invalidate}, once
    before it is sent and once after it is done: the entries go, so no
    later read is answered from before the write.

    A read that misses must not put back an answer the database gave
    before a write that raced it.  So it takes a token (L{begin}): the
    generation of its key and of each of its scopes, counters that every
    L{invalidate} naming them moves on.  L{finish} keeps the answer only if
    none moved meanwhile.  Generations are kept only while a read of that
    name is under way, so they cost nothing when idle.

    @ivar size: the most entries kept.
    """

    def __init__(self, size=4096):
        self.size = size
        # key -> (value, scopes), least recently used first
        self._entries = OrderedDict()
        # scope -> set of keys of entries in that scope
        self._members = {}
        # key or scope -> [generation, reads under way]
        self._reading = {}

    def __len__(self):
        return len(self._entries)

    def get(self, key):
        """
        @return: the value kept for C{key} (not a copy), or L{MISSING}.
        """
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        self._entries.move_to_end(key)
        return entry[0]

    def begin(self, key, scopes):
        """
        Note the start of a read of C{key} from the database.

        @return: the token to hand to L{finish}.
        """
        token = []
        for name in (key,) + scopes:
            slot = self._reading.setdefault(name, [0, 0])
            slot[1] += 1
            token.append(slot[0])
        return tuple(token)

    def unchanged(self, key, scopes, token):
        """
        Tell whether no write of C{key} or of its C{scopes} happened since
        the read that took C{token} began (that read still under way).
        """
        return tuple(self._reading[name][0]
                     for name in (key,) + scopes) == token

    def finish(self, key, scopes, token, value=MISSING):
        """
        Note the end of a read begun with L{begin}, and keep its answer
        C{value} unless a write of C{key} or of one of C{scopes} happened
        since (or the read failed: no C{value}).

        @return: whether C{value} was kept.
        """
        current = []
        for name in (key,) + scopes:
            slot = self._reading[name]
            current.append(slot[0])
            slot[1] -= 1
            if not slot[1]:
                del self._reading[name]
        if value is MISSING or tuple(current) != token or not self.size:
            return False
        self._drop(key)
        self._entries[key] = (value, scopes)
        for scope in scopes:
            self._members.setdefault(scope, set()).add(key)
        while len(self._entries) > self.size:
            self._drop(next(iter(self._entries)))
        return True

    def invalidate(self, names):
        """
        Forget the entries of the keys and scopes in C{names}, and move
        their generations on.
        """
        for name in names:
            slot = self._reading.get(name)
            if slot is not None:
                slot[0] += 1
            self._drop(name)
            for key in self._members.pop(name, ()):
                self._drop(key)

    def _drop(self, key):
        entry = self._entries.pop(key, None)
        if entry is not None:
            for scope in entry[1]:
                members = self._members.get(scope)
                if members is not None:
                    members.discard(key)
                    if not members:
                        del self._members[scope]
