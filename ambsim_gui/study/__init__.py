"""Studies: a planner's what-if sweeps over scenario variants, policies and seeds.

A study file (``model.py``, loaded by ``loader.py``) names a base scenario, the overrides that
make its variants (``overrides.py``), the policies, the seeds and the figures to report. The
runner (``runner.py``) plays every shift not yet in the results table (``store.py``) on a local
process pool or a Dask cluster; ``report.py`` summarises the table with 95% confidence
intervals (``stats.py``) and charts (``charts.py``). No Qt here.
"""
