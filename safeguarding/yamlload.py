"""Reading the project's own YAML files (the indicator catalogue) with libyaml's parser where PyYAML has it."""

from __future__ import annotations

import yaml


def safe_load(text: str) -> object:
    """``yaml.safe_load(text)``, parsed by libyaml (``CSafeLoader``) when PyYAML was built with it.

    The objects are the same (the safe constructor is PyYAML's own either way); only the parsing is
    faster: the catalogue, read by every chapter's kernel and several stages of a build, in about a
    tenth of the time. Without libyaml it is ``yaml.safe_load``.
    """
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # a safe loader either way
