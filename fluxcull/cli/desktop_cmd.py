"""`fluxcull install-desktop [--uninstall] [--json]`: the menu launcher, icons and AppStream
metadata in the user's XDG data folder. Needs no library."""

from __future__ import annotations

from fluxcull.cli.common import emit_json


def register(sub) -> None:
    p = sub.add_parser(
        "install-desktop", help="add fluxcull to the desktop menu (launcher, icons, AppStream metadata)",
        description="Install the launcher (starting this fluxcull's `gui`), the icons and the AppStream "
                    "metadata into $XDG_DATA_HOME (default ~/.local/share): applications/, icons/hicolor/ "
                    "and metainfo/. --uninstall removes exactly the files it installed.")
    p.add_argument("--uninstall", action="store_true", help="remove what install-desktop installed")
    p.add_argument("--json", action="store_true", help="print what was done as JSON")
    p.set_defaults(func=run)


def run(args, lib) -> int:
    from fluxcull import desktop

    if args.uninstall:
        result = desktop.uninstall()
        if args.json:
            emit_json(result)
        else:
            for name in result["removed"]:
                print(f"removed {name}")
            if not result["removed"]:
                print(f"nothing of fluxcull's was installed in {result['data_home']}")
        return 0
    result = desktop.install()
    if args.json:
        emit_json(result)
    else:
        for name in result["files"]:
            print(f"installed {name}")
        print("fluxcull is in the desktop menu (Graphics); `fluxcull install-desktop --uninstall` removes it.")
    return 0
