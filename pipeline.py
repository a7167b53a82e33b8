"""Front door: ``python pipeline.py COMMAND --help`` lists each command's options.

Commands: init, check, synth, ingest, indicators, build, preview, site, publish,
benchmarks. All logic lives in the ``safeguarding`` package; this file only
hands the command line to it.
"""

import sys

from safeguarding.cli import main

if __name__ == "__main__":
    sys.exit(main())
