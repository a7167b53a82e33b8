"""Reading the project's own YAML files (the indicator catalogue) with libyaml's parser where PyYAML has it."""

from __future__ import annotations

import yaml

#: PyYAML's safe loader, parsing with libyaml (``CSafeLoader``) when PyYAML was built with it: the objects
#: are the same (the safe constructor is PyYAML's own either way); the catalogue, read by every chapter's
#: kernel and several stages of a build, is parsed in about a tenth of the time
SAFE_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = (
    yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader)


def safe_load(text: str) -> object:
    """``yaml.safe_load(text)``, parsed with :data:`SAFE_LOADER`."""
    return yaml.load(text, Loader=SAFE_LOADER)  # a safe loader either way
