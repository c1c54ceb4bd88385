"""
Storage backends, each implementing L{mixtwisted.interfaces.IMIXStorage}.
"""
