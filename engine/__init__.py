"""MotCua domain core: calendar, deadlines, lifecycle, storage and reports.

Nothing in here imports the web layer, the PDF renderer or the scheduler; those live in
``service/`` and ``printouts/`` and call into this package.
"""
