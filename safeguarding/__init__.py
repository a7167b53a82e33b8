"""Annual review pipeline for children's safeguarding partnerships.

Stages (one module each): ``synth`` (synthetic data), ``ingest`` (raw files to
tidy Parquet), ``indicators`` (the catalogue and engine), ``stats`` (intervals,
SPC, funnels, trends), ``benchmarks`` (DfE and ONS), ``charts``,
``disclosure`` and ``publish``; ``build`` runs them all.
"""

__version__ = "0.1.0"
