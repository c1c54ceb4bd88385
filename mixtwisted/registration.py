"""
Nick registration with the service (NICK-8..14).
"""
