"""Entry point of the PyInstaller bundle: `fluxcull` as the installed command runs it."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Ingest's worker processes (forkserver/spawn) start this same binary: let them run as workers.
    multiprocessing.freeze_support()
    from fluxcull.cli import main

    sys.exit(main())
