"""Media: RTP packets (RFC 3550), telephone events (RFC 4733), G.711; the relay comes on top of these."""
