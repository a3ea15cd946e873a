"""fluxcull's version: the one place it is written.

pyproject.toml reads `VERSION` from here when a wheel or sdist is built (setuptools' `attr:`), and
`fluxcull.__version__` is the installed distribution's metadata version, falling back to this value
when fluxcull runs from a source tree that is not what is installed (an editable install, PYTHONPATH).
Change the version here and in CHANGELOG.md together.
"""

from __future__ import annotations

VERSION = "0.1.0"


def installed_version() -> str:
    """The version of the distribution this very package was installed from, else `VERSION`."""
    from importlib import metadata
    from pathlib import Path

    try:
        dist = metadata.distribution("fluxcull")
    except metadata.PackageNotFoundError:
        return VERSION
    here = Path(__file__).resolve().parent
    try:
        installed = Path(str(dist.locate_file("fluxcull/__init__.py"))).resolve().parent
    except OSError:
        return VERSION
    # An editable install or another checkout on the path: the metadata is not this code's.
    return dist.version if installed == here else VERSION
