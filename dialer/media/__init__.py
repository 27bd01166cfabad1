"""Media: RTP packets (RFC 3550), telephone events (RFC 4733), the relay, recorder and per-leg sessions (G.711
and WAV live in the ground-floor `audio` package)."""
