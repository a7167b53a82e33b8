"""What ``report.yml`` may contain: every section, key, type and range, checked all at once.

:func:`check_config` walks the parsed file and returns every :class:`Problem`
it finds, each with its key path (``inputs.referrals.header_row``) and the fix,
so that :func:`safeguarding.config.load_config` can report them together, in
one error, before any work starts. Nothing here reads an input file or
touches the disk except to resolve the output folders.

The rules follow how each setting is used:

* ``area`` (``name``, ``slug``, ``la_code``): the slug is the folder the report
  is published to under ``reports/`` (and the old one is deleted), so it may
  hold only lowercase letters, digits and hyphens (:data:`SLUG_PATTERN`);
* ``year``: a whole number from 2000 to 2100, the year ending 31 March;
* ``audience``: ``public`` or ``board``;
* ``paths``: ``raw`` is only read and may be anywhere; ``processed`` and
  ``reports`` are written to (and cleared), so they must be folders inside the
  project folder, the folder holding ``report.yml``;
* ``inputs.<table>``: the keys the ingest reads (``safeguarding.ingest.core.SPEC_KEYS``),
  ``header_row`` a whole number from 1, ``sheet`` a name or 1-based number,
  ``encoding``, ``date_format`` and ``format`` values the ingest accepts,
  ``columns`` and ``codes`` keyed by the table's canonical columns;
* ``aggregates``: a list of returns with the keys the reader knows
  (``safeguarding.ingest.partners.SPEC_KEYS``);
* ``population``: positive numbers keyed by year; ``targets``: numbers keyed
  by indicator code; ``benchmarks``, ``pseudonymisation``, ``ingest``,
  ``report``, ``indicators`` and ``age_bands`` as documented in
  ``docs/configuration.md``;
* ``site`` (optional): ``base_url`` an ``https://`` address (:data:`BASE_URL_PATTERN`),
  ``contact_email`` an e-mail address (:data:`EMAIL_PATTERN`), ``organisation`` text,
  ``statement_prepared_on`` a date;
* ``publish`` (optional): ``targets``, each a name with ``url`` (a folder, ``file:///path`` or
  ``sftp://user@host[:port]/path``, never with a password), ``audience`` (``public``, the default,
  or ``board``) and ``keep`` (releases kept, a whole number from 2), as
  :func:`safeguarding.deploy.parse_target` reads them;
* ``editorial``: a folder path (the files in it are checked by
  :func:`safeguarding.editorial.load_editorial` before the build starts);
* ``disclosure``: the keys of ``safeguarding.disclosure.policy.Policy``, with
  the ranges it declares; ``threshold`` two whole numbers ``[lo, hi]`` with
  ``1 <= lo <= hi`` (a true zero is always shown), and ``secondary`` never
  false for the public audience.

Input paths (``paths.raw``, ``inputs.*.file``, ``aggregates[*].file``,
``benchmarks.*``, ``pseudonymisation.key_file``) may point anywhere: they are
read, never cleared.

The package: :mod:`~safeguarding.config_schema.keys` (the keys and value rules),
:mod:`~safeguarding.config_schema.checker` (:class:`Problem`, the helpers and the checker),
:mod:`~safeguarding.config_schema.sections`, :mod:`~safeguarding.config_schema.inputs` and
:mod:`~safeguarding.config_schema.disclosure` (each section's rules) and :mod:`~safeguarding.config_schema.check`
(:func:`check_config`, the walk over the file).
"""

from __future__ import annotations

from safeguarding.config_schema.check import check_config
from safeguarding.config_schema.checker import (
    Problem,
    describe,
    inside_folder,
    is_slug,
    slugify,
    suggestion,
    whole_number,
)
from safeguarding.config_schema.keys import (
    AREA_KEYS,
    AUDIENCES,
    BASE_URL_PATTERN,
    BENCHMARKS_KEYS,
    EMAIL_PATTERN,
    INDICATORS_KEYS,
    INGEST_KEYS,
    LAYOUTS,
    OUTPUT_DEFAULTS,
    PATHS_KEYS,
    PSEUDONYMISATION_KEYS,
    REPORT_KEYS,
    REPORT_STATUSES,
    SITE_KEYS,
    SLUG_MAX,
    SLUG_PATTERN,
    SLUG_RULE,
    TOP_LEVEL_KEYS,
    YEAR_MAX,
    YEAR_MIN,
    YEAR_RULE,
    InputRules,
    aggregate_keys,
    input_rules,
)

__all__ = [
    "AREA_KEYS",
    "AUDIENCES",
    "BASE_URL_PATTERN",
    "BENCHMARKS_KEYS",
    "EMAIL_PATTERN",
    "INDICATORS_KEYS",
    "INGEST_KEYS",
    "LAYOUTS",
    "OUTPUT_DEFAULTS",
    "PATHS_KEYS",
    "PSEUDONYMISATION_KEYS",
    "REPORT_KEYS",
    "REPORT_STATUSES",
    "SITE_KEYS",
    "SLUG_MAX",
    "SLUG_PATTERN",
    "SLUG_RULE",
    "TOP_LEVEL_KEYS",
    "YEAR_MAX",
    "YEAR_MIN",
    "YEAR_RULE",
    "InputRules",
    "Problem",
    "aggregate_keys",
    "check_config",
    "describe",
    "input_rules",
    "inside_folder",
    "is_slug",
    "slugify",
    "suggestion",
    "whole_number",
]
