"""The scheduler: timed work at instants, by exactly one leader (docs/notifications.md).

- ``runner`` — :class:`~service.scheduler.runner.Scheduler`, the APScheduler jobs (the only
  module that imports APScheduler);
- ``leader`` — the database lease seen from one process;
- ``tasks`` — what the jobs call (sweep, delivery, snapshot), imported when first run;
- ``status`` — the last sweep and the lease holder read back for /healthz and /metrics;
- ``settings`` — the rhythm (``MOTCUA_SWEEP_MINUTES`` …).

Nothing is imported here, so ``/metrics`` reads the status without loading APScheduler.
"""
