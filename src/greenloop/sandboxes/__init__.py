"""Sandboxes: bwrap (an OS-level jail) and process (limits only, loud warning)."""
