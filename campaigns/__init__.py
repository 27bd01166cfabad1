"""Campaigns: definition and lifecycle, lead selection (the hopper) and recovery after a crash."""
