"""``pipeline.py preview``: its options and the run until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from safeguarding.preview.rebuild import Preview, StopPreview
from safeguarding.preview.server import HOST, start_server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py preview``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--port", type=int, default=0,
                        help="port on 127.0.0.1 (default 0: a free one; the address is printed)")
    parser.add_argument("--year", type=int, help="reporting year ending 31 March, e.g. 2025 for 2024-25")
    parser.add_argument("--audience", choices=("public", "board"),
                        help="public (suppressed, default) or board (everything, OFFICIAL-SENSITIVE)")
    parser.add_argument("--renderer", choices=("auto", "quarto", "builtin"), default="auto",
                        help="quarto if on PATH (auto), or the built-in pandoc + typst publisher")


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While waiting for changes, SIGTERM stops the preview as Ctrl-C does (a build handles it itself)."""
    def on_term(_signum: int, _frame: object) -> None:
        raise StopPreview()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    """Run ``pipeline.py preview``: serve, build, watch and rebuild until Ctrl-C; return the exit status."""
    from safeguarding.build import BuildInterrupted

    if not Path(args.config).is_file():
        print(f"error: configuration file not found: {args.config} (pass --config with the path to report.yml)",
              file=sys.stderr)
        return 2
    preview = Preview(args.config, year=args.year, audience=args.audience, renderer=args.renderer,
                      echo=lambda line: print(line, flush=True))
    try:
        server, thread = start_server(preview.state, args.port)
    except OSError as exc:
        print(f"error: cannot listen on {HOST}:{args.port}: {exc}; choose another --port (0: any free one)",
              file=sys.stderr)
        return 2
    print(f"Previewing at {server.url} (Ctrl-C to stop)", flush=True)
    if preview.state.status.page is None:
        print("  (report.yml could not be read yet: the page shows why)", flush=True)
    code = 0
    try:
        with _sigterm_stops():
            preview.run_forever()
    except (KeyboardInterrupt, StopPreview):
        print("\npreview stopped", flush=True)
    except BuildInterrupted as exc:
        print(f"\npreview stopped ({exc.signal_name}): the build in progress was stopped and nothing was "
              "published; the previous report, if any, was left unchanged.", flush=True)
        code = 0 if exc.signal_name == "SIGINT" else 143
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    return code
