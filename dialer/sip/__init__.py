"""SIP signalling, one module per RFC 3261 concept; only the transport touches sockets."""
