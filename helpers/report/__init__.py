"""Tables, ``results/summary.md`` and figures; nothing here trains or simulates."""
