"""The national portal sync (*đồng bộ với Cổng Dịch vụ công quốc gia*, domain §7.4), issue 17.

``record`` builds the outbound record of one lifecycle event in the national vocabulary and
checks it against ``workflows/schemas/national-sync.schema.json``; ``batch`` writes records as
JSON Lines or CSV; ``outbound`` queues them in the outbox; ``reconcile`` compares a portal
export with the local records. Pure functions, apart from ``outbound``'s after-effect
(docs/sync.md).
"""
