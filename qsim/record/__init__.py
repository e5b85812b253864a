"""Recordings: a run's event log in a ``.qrec`` file, replayed, seeked, exported.

Stdlib and numpy only, never Qt: the headless CLI and the window share it.
"""
