"""Simulators that stand in for the outside world: the pacing model here, the PSTN for SIP tests later."""
