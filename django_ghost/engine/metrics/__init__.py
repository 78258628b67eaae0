"""Metrics: the sink every step records into (``emitter.py``), the catalogue of metric
names (gh-ost's, ``catalogue.py``), the DogStatsD sender (``statsd.py``), the in-memory
aggregate the Prometheus view reads (``registry.py``) and the Prometheus text format
(``prometheus.py``). What is sampled and when is decided in ``control/metrics.py``."""
