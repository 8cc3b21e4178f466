"""Timed work: what the scheduler finds when time passes (sweeps), and the messages it leaves.

``findings`` names what can be found; ``rules`` are the pure rules (a dossier's facts, a
calendar and an instant → findings); ``sweep`` selects the candidates in SQL, applies the
rules and writes the messages to the outbox (``engine.outbox``); ``messages`` and
``recipients`` say what each message says and to whom (docs/notifications.md).
"""
