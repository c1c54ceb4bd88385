"""
The storage contract tests (L{tests.storetests}) on the memory store.
"""

from twisted.trial import unittest

from tests import storetests
from tests.helpers import MemoryStoreMixin


class MemoryChannelStorageTests(MemoryStoreMixin,
                                storetests.ChannelStorageTests,
                                unittest.TestCase):
    pass


class MemoryParticipantStorageTests(MemoryStoreMixin,
                                    storetests.ParticipantStorageTests,
                                    unittest.TestCase):
    pass


class MemorySubscriptionStorageTests(MemoryStoreMixin,
                                     storetests.SubscriptionStorageTests,
                                     unittest.TestCase):
    pass


class MemoryArchiveStorageTests(MemoryStoreMixin,
                                storetests.ArchiveStorageTests,
                                unittest.TestCase):
    pass


class MemoryNickStorageTests(MemoryStoreMixin, storetests.NickStorageTests,
                             unittest.TestCase):
    pass


class MemoryItemStorageTests(MemoryStoreMixin, storetests.ItemStorageTests,
                             unittest.TestCase):
    pass


class MemoryClientStorageTests(MemoryStoreMixin,
                               storetests.ClientStorageTests,
                               unittest.TestCase):
    pass


class MemoryPresenceStorageTests(MemoryStoreMixin,
                                 storetests.PresenceStorageTests,
                                 unittest.TestCase):
    pass


class MemoryDeliveryStorageTests(MemoryStoreMixin,
                                 storetests.DeliveryStorageTests,
                                 unittest.TestCase):
    pass
