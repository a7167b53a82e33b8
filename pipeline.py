"""Front door: ``python pipeline.py COMMAND --help`` lists each command's options.

Commands: init, check, synth, ingest, indicators, build, preview, site, publish,
benchmarks. All logic lives in the ``safeguarding`` package; this file only
hands the command line to it.
"""

from safeguarding import quick_exit

if __name__ == "__main__":
    quick_exit.install()  # before any module registers an exit handler: it runs after all of them
    from safeguarding.cli import main

    quick_exit.leave(main())
