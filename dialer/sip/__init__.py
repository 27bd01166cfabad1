"""SIP signalling, one module per RFC 3261 concept; only the transport touches sockets.

So far: `message` (§7, §25 parse/serialise), `headers` (Via, name-addr), `transaction` (§17 tables, RFC 6026).
"""
