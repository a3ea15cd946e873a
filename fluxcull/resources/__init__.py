"""Package data: the desktop entry, the AppStream metadata and the icons (see fluxcull.desktop)."""
