"""
Service discovery of the service and its channels (DISCO-*, CHAN-1..4).

This is an L{IDisco} provider consulted by wokkel's C{DiscoHandler}; it is
the only one, so the service never advertises generic PubSub (DISCO-4).

Disco addressed to a participant's proxy JID (bare or full) never gets
here: L{mixtwisted.handlers.relay} relays it to the participant (XEP-0369
§3.6, RELAY-6) or refuses it, before wokkel's handler runs.
"""

from twisted.internet import defer
from twisted.words.protocols.jabber.error import StanzaError
from twisted.words.protocols.jabber.jid import JID
from wokkel import data_form, disco
from wokkel.subprotocols import XMPPHandler
from zope.interface import implementer

from mixtwisted import namespaces as ns
from mixtwisted.errors import MIXError, NotFound, ServiceUnavailable
from mixtwisted.handlers import registration
from mixtwisted.handlers.base import SkipHandled, toStanzaError

# Each MIX feature of the service in 0.9.5's spelling and in MIX-CORE's,
# both under the same condition: a requester's disco names no revision
# (REV-1).
_MIX = (ns.NS_MIX, ns.NS_MIX_CORE)
_SEARCHABLE = (ns.NS_MIX_SEARCHABLE, ns.NS_MIX_CORE_SEARCHABLE)
_CREATE = (ns.NS_MIX_CREATE, ns.NS_MIX_CORE_CREATE)

#: The nick-register feature named in each registration namespace
#: (DISCO-5, NICK-9, REV-15)...
_NICK_REGISTER_FEATURES = {ns.NS_MIX: ns.NS_MIX_NICK_REGISTER,
                           ns.NS_MIX_MISC: ns.NS_MIX_MISC_NICK_REGISTER}
#: ...advertised for the namespaces registration is served in.
_NICK_REGISTER = tuple(_NICK_REGISTER_FEATURES[uri]
                       for uri in registration.NAMESPACES)


def _stanzaErrors(failure):
    failure.trap(MIXError)
    raise toStanzaError(failure.value)


def mirrorForms(domain):
    """
    The XEP-0128 forms naming the MUC mirror, one per FORM_TYPE the specs
    use (MUC-3, AMB-40).
    """
    forms = []
    for formType in (ns.NS_MIX_SERVICEINFO, ns.NS_MIX_MUC_MIRROR):
        form = data_form.Form("result", formNamespace=formType)
        form.addField(data_form.Field(
            "jid-single", var="muc-mirror", values=[domain],
            label="Location of MUC mirror service"))
        forms.append(form)
    return forms


class DiscoHandler(SkipHandled, disco.DiscoHandler):
    """
    wokkel's disco handler, leaving alone requests already answered.
    """


@implementer(disco.IDisco)
class MIXDisco(XMPPHandler):
    """
    Answer disco#info and disco#items for the service and its channels.
    """

    def __init__(self, channels):
        XMPPHandler.__init__(self)
        self.channels = channels
        self.settings = channels.settings

    def getDiscoInfo(self, requestor, target, nodeIdentifier=""):
        if target.host != self.channels.domain:
            return defer.succeed([])
        if target.resource:
            # Full proxy JIDs of clients are relayed before they get here
            # (handlers/relay.py); a channel with a resource, or a full JID
            # naming no channel, is no disco entity.
            return defer.fail(StanzaError("service-unavailable"))
        if target.user is None:
            return defer.succeed(
                self._serviceInfo(requestor) if not nodeIdentifier else [])
        d = self._channelInfo(requestor, target, nodeIdentifier)
        d.addErrback(_stanzaErrors)
        return d

    def _serviceInfo(self, requestor):
        """
        The service's identities and features (DISCO-1..6): 0.9.5's
        C{conference/text} and MIX-CORE's C{conference/mix}, each MIX
        feature in both revisions (REV-1).
        """
        name = self.settings.name
        features = [*_MIX, ns.NS_DISCO_INFO, ns.NS_DISCO_ITEMS,
                    # Nick registration (DISCO-5, NICK-9).
                    *_NICK_REGISTER,
                    # The vCard protocols relayed to participants
                    # (DISCO-6, RELAY-3); see mixtwisted.relay.RELAYED.
                    ns.NS_VCARD_TEMP, ns.NS_VCARD4]
        if self.settings.searchable:
            features.extend(_SEARCHABLE)
        if self.channels.mayCreate(requestor):
            features.extend(_CREATE)
        info = [disco.DiscoIdentity("conference", "text", name),
                disco.DiscoIdentity("conference", "mix", name)]
        info.extend(disco.DiscoFeature(var) for var in features)
        if self.settings.mucMirror:
            info.extend(mirrorForms(self.settings.mucMirror))
        return info

    @defer.inlineCallbacks
    def _channelInfo(self, requestor, target, nodeIdentifier):
        if nodeIdentifier not in ("", ns.MIX_DISCO_NODE):
            return []
        try:
            channel, participant = yield self.channels.resolveProxy(
                target.user)
        except NotFound:
            if not (yield self.channels.looksLikeProxy(target.user)):
                raise
            # Proxy JIDs of existing channels are taken by the relay before
            # they get here; should one arrive all the same, an unknown one
            # answers as a known one does, so that disco cannot tell which
            # proxy JIDs exist.
            participant = True
        if participant is not None:
            raise ServiceUnavailable("Participants are not disco entities")
        yield self.channels.discoverChannel(channel.name, requestor)
        name = channel.info.get("Name") or channel.name
        return [disco.DiscoIdentity("conference", "mix", name),
                disco.DiscoFeature(ns.NS_MIX),
                disco.DiscoFeature(ns.NS_MIX_CORE),
                disco.DiscoFeature(ns.NS_MAM2),
                disco.DiscoFeature(ns.NS_MAM1),
                disco.DiscoFeature(ns.NS_DISCO_INFO),
                disco.DiscoFeature(ns.NS_DISCO_ITEMS)]

    def getDiscoItems(self, requestor, target, nodeIdentifier=""):
        if target.host != self.channels.domain:
            return defer.succeed([])
        if target.resource:
            return defer.fail(StanzaError("service-unavailable"))
        if target.user is None:
            if nodeIdentifier:
                return defer.succeed([])
            d = self.channels.listChannels(requestor)
            d.addCallback(lambda names: [
                disco.DiscoItem(JID(self.channels.channelJID(name)))
                for name in names])
            return d
        if nodeIdentifier not in ("", ns.MIX_DISCO_NODE):
            return defer.succeed([])
        d = self.channels.discoverNodes(target.user, requestor)
        channelJID = JID(tuple=(target.user, target.host, None))
        d.addCallback(lambda nodes: [
            disco.DiscoItem(channelJID, node) for node in nodes])
        d.addErrback(_stanzaErrors)
        return d
