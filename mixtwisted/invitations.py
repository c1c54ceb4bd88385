"""
Invitation tokens (INV-1..7): signed, bound to channel, inviter and
invitee, with an expiry.
"""
