"""Side-by-side compare: Left/Right choose the better photo (a pairwise preference for the ranker).

Compare stays within one group of look-alike frames. Three or more photos selected: the first is
the champion, frozen, and the others challenge it one by one; when they are done, compare says
which photo won and goes back to the grid. Otherwise fluxcull proposes the next most informative
pair of one burst (fluxcull.keeper.bursts through fluxcull.workflows: frames of one scene seconds apart;
scores close, model uncertain), stays in that burst until it is done, says so, and only then moves
to another burst of the session; photos of different bursts are never paired. H freezes the left
photo as the champion of its burst; Down passes over a challenger. Zoom and pan are synchronised.
Messages name files.

A choice is committed with the culling rule of what it decides (fluxcull.culling.choice_verdict: with
the setting compare.decides on, two undecided photos are kept and rejected by it), as one undo step;
stars and colour labels pressed here apply to both photos shown (`shown_photos`).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from fluxcull.catalog import Catalog
from fluxcull.culling import choice_verdict
from fluxcull.ui import theme
from fluxcull.ui.delegate import record_pill
from fluxcull.ui.images import ImageLoader, ImagePane
from fluxcull.ui.loupe import state_note


def file_name(rec: dict | None) -> str:
    return ((rec or {}).get("path") or "").replace("\\", "/").rsplit("/", 1)[-1] or "this photo"


def propose_pair(catalog: Catalog, session_id: int | None, exclude: set[frozenset] | None = None, *,
                 lib=None, within: int | None = None) -> tuple[int, int] | None:
    """The keeper model's next most informative pair of one burst (with `within`: of that photo's burst)."""
    from fluxcull.workflows import informative_pair

    pair = informative_pair(catalog, session_id, lib, within=within)
    if pair is None or frozenset(pair) in (exclude or set()):
        return None
    return pair


class _Side(QWidget):
    """One photo of the pair under its caption: key and file name, the grid's score pill (the same
    badge rules: ★ confirmed keeper, ☆ rejected one, ⚠ technical failure), the decision, what the
    photo is, and ★ CHAMPION while it leads its group."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.title.setObjectName("panelTitle")
        self.pill = QLabel()
        self.pill.setContentsMargins(0, 4, 0, 0)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.RichText)
        self.caption.setObjectName("panelTitle")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.title)
        row.addWidget(self.pill)
        row.addWidget(self.caption)
        row.addStretch(1)
        self.pane = ImagePane()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(0)
        lay.addLayout(row)
        lay.addWidget(self.pane, 1)

    def set_caption(self, rec: dict, key: str, champion: bool, linked: bool = False) -> None:
        """`linked`: the photo is an original linked from the keeper archive."""
        name = (rec.get("path") or "").rsplit("/", 1)[-1]
        self.title.setText(f'<span style="color:#6b7078">[{key}]</span> &nbsp;{escape(name)}')
        font = QFont(self.font())
        font.setBold(True)
        self.pill.setPixmap(record_pill(rec, linked, font, dpr=self.devicePixelRatioF()))
        decision = {"keep": ' &nbsp;<span style="color:#43b96f">✔ keep</span>',
                    "reject": ' &nbsp;<span style="color:#d9534f">✖ reject</span>'}.get(rec.get("decision"), "")
        note = state_note(rec, linked)
        note = f' &nbsp;<span style="color:#b8bcc4">{escape(note)}</span>' if note else ""
        tag = ' &nbsp;<span style="color:#f2c230">★ CHAMPION</span>' if champion else ""
        self.caption.setText(f"{decision}{marks_html(rec)}{note}{tag}")


def marks_html(rec: dict) -> str:
    """A caption's stars (gold) and colour label (its dot and name)."""
    stars, label = rec.get("rating") or 0, rec.get("color_label")
    out = f' &nbsp;<span style="color:{theme.STAR_COLOUR.name()}">{"★" * stars}</span>' if stars else ""
    if label:
        out += f' &nbsp;<span style="color:{theme.LABEL_COLOURS[label].name()}">●</span> {label.capitalize()}'
    return out


class CompareView(QWidget):
    preferred = Signal(int, int)     # winner, loser (recorded)
    chosen = Signal(object)          # a choice committed: Catalog.choose's result (what it decided)
    exhausted = Signal(str)          # nothing left to compare here: why, in words
    said = Signal(str)               # a message for the status bar

    def __init__(self, catalog: Catalog, loader: ImageLoader, thumb_image, writer=None, parent=None, lib=None):
        super().__init__(parent)
        self.catalog = catalog
        self.lib = lib        # the library: bursts need its embeddings (None: bursts by capture time)
        self.writer = writer  # CatalogWriter: commits off the GUI thread; None: commit here
        self.loader = loader
        self.thumb_image = thumb_image
        self.left, self.right = _Side(), _Side()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.left, 1)
        lay.addWidget(self.right, 1)
        self.left.pane.view_changed.connect(lambda z, x, y: self.right.pane.set_view(z, x, y))
        self.right.pane.view_changed.connect(lambda z, x, y: self.left.pane.set_view(z, x, y))
        self.setFocusPolicy(Qt.StrongFocus)
        self.frozen = False
        self.session_id: int | None = None
        self.group: list[int] = []         # the photos a frozen champion is compared with (and itself)
        self.challengers: list[int] = []
        self.skipped: set[frozenset] = set()
        self.records: dict[int, dict] = {}
        self.pair: tuple[int, int] | None = None
        loader.loaded.connect(self._on_loaded)

    def name(self, photo_id: int) -> str:
        rec = self.records.get(photo_id)
        if rec is None:
            rec = self.catalog.photo(photo_id)
        return file_name(rec)

    @property
    def champion(self) -> bool:
        """The left photo is a real champion: frozen, and both photos are of the group it leads."""
        return bool(self.frozen and self.pair and self.group and set(self.pair) <= set(self.group))

    # -- pairs ----------------------------------------------------------------------------------
    def start(self, pair: tuple[int, int] | None, *, session_id: int | None,
              challengers: list[int] | None = None) -> bool:
        """Show `pair` (or propose one of a burst); challengers follow the champion when it is frozen."""
        self.session_id = session_id
        self.challengers = list(challengers or [])
        if not self.challengers:
            self.frozen = False  # a champion leads its own group only
        self.group = [*pair, *self.challengers] if pair is not None and self.challengers else []
        if pair is None:
            pair = self._propose(None)
        if pair is None:
            self.pair = None
            self.exhausted.emit("No look-alike frames left to compare in this session: compare works within a "
                                "burst (select two or more photos and press C to compare those)")
            return False
        self._show(pair)
        return True

    def _propose(self, within: int | None) -> tuple[int, int] | None:
        return propose_pair(self.catalog, self.session_id, self.skipped, lib=self.lib, within=within)

    def _show(self, pair: tuple[int, int]) -> None:
        self.pair = (int(pair[0]), int(pair[1]))
        self.records = self.catalog.photos(list(self.pair))
        zoom, cx, cy = self.left.pane.zoom, self.left.pane.cx, self.left.pane.cy
        for side, pid in ((self.left, self.pair[0]), (self.right, self.pair[1])):
            rec = self.records.get(pid, {"id": pid, "path": ""})
            image = self.loader.best(pid)
            size = QSize(rec.get("width") or 0, rec.get("height") or 0)
            side.pane.set_image(image if image is not None else self.thumb_image(rec), size, message="decoding…")
            side.pane.set_view(zoom, cx, cy)
        self._captions()
        self._request()

    def _captions(self) -> None:
        a, b = self.pair
        self.left.set_caption(self.records.get(a, {}), "←", self.champion, self.catalog.is_confirmed_keeper(a))
        self.right.set_caption(self.records.get(b, {}), "→", False, self.catalog.is_confirmed_keeper(b))

    def _request(self) -> None:
        wanted = []
        level = "full" if self.left.pane.zoom is not None else "screen"
        for pid in self.pair:
            rec = self.records.get(pid)
            if rec and rec.get("path"):
                wanted.append((pid, rec["path"], level))
        if self.frozen and self.challengers:
            nxt = self.catalog.photos(self.challengers[:1])
            wanted += [(i, r["path"], "screen") for i, r in nxt.items()]
        self.loader.request(wanted)

    def choose(self, side: str) -> tuple[int, int] | None:
        """The left or right photo is the better one: record it and move on."""
        if self.pair is None:
            return None
        a, b = self.pair
        winner, loser = (a, b) if side == "left" else (b, a)
        self.preferred.emit(winner, loser)
        if self.frozen and self.group:  # the next pair needs nothing from the catalog
            self._commit(winner, loser, None)
            self._advance(winner)
        else:  # the model's next proposal must see this choice: propose once it is committed
            self.pair = None
            self._commit(winner, loser, lambda *_: self._advance(winner))
        return winner, loser

    def _commit(self, winner: int, loser: int, then) -> None:
        def write(c):
            return c.choose(winner, loser, "compare", verdict=choice_verdict(c))

        def done(result, error):
            if not error:
                self.chosen.emit(result)
            if then is not None:
                then(result, error)

        if self.writer is not None:
            self.writer.submit(write, done)
        else:
            done(write(self.catalog), None)

    def shown_photos(self) -> list[dict]:
        """The records of the two photos shown (what stars and labels apply to here)."""
        return [self.records.get(pid, {"id": pid}) for pid in self.pair] if self.pair else []

    def refresh_records(self) -> None:
        """Read the photos shown again (after a decision, stars or an undo) and caption them anew."""
        if self.pair is not None:
            self.records = self.catalog.photos(list(self.pair))
            self._captions()

    def skip(self) -> bool:
        """Champion mode: pass over this challenger without a choice."""
        if self.pair is None or not self.frozen or not self.challengers:
            return False
        self.skipped.add(frozenset(self.pair))
        self._advance(self.pair[0])
        return True

    def toggle_freeze(self) -> None:
        """Freeze the left photo as the champion of its burst (the burst's other frames challenge it),
        or release it."""
        self.frozen = not self.frozen
        if self.frozen and self.pair is not None and not self.group:
            from fluxcull.workflows import burst_members

            members = burst_members(self.lib, self.catalog, self.pair[0]) if self.lib is not None else list(self.pair)
            self.group = list(dict.fromkeys([*self.pair, *members]))
            self.challengers = [i for i in self.group if i not in self.pair]
        elif not self.frozen:
            self.group, self.challengers = [], []
        if self.pair is not None:
            self._captions()

    def _advance(self, champion: int | None) -> None:
        if self.frozen and self.group and champion is not None:
            while self.challengers and self.challengers[0] in (champion, *(self.pair or ())):
                self.challengers.pop(0)
            if self.challengers:
                self._show((champion, self.challengers.pop(0)))
                return
            self.pair = None
            self.exhausted.emit(f"Every photo of this group has been compared: {self.name(champion)} is the best "
                                "of them")
            return
        pair = self._propose(champion)  # first, the rest of this burst
        if pair is None:
            pair = self._propose(None)  # this burst is done: another burst of the session
            if pair is not None:
                self.said.emit(f"That burst is done; next, a burst with {self.name(pair[0])}")
        if pair is None:
            self.pair = None
            self.exhausted.emit("That burst is done, and no other burst of this session has frames left to compare")
            return
        self._show(pair)

    def toggle_zoom(self) -> None:
        self.left.pane.toggle_zoom()  # the right pane follows through view_changed
        if self.pair is not None:
            self._request()

    def _on_loaded(self, photo_id: int, level: str) -> None:
        if self.pair is None or photo_id not in self.pair:
            return
        side = self.left if photo_id == self.pair[0] else self.right
        image = self.loader.best(photo_id)
        if image is not None:
            rec = self.records.get(photo_id, {})
            zoom, cx, cy = side.pane.zoom, side.pane.cx, side.pane.cy
            side.pane.set_image(image, QSize(rec.get("width") or 0, rec.get("height") or 0))
            side.pane.set_view(zoom, cx, cy)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Left:
            self.choose("left")
        elif event.key() == Qt.Key_Right:
            self.choose("right")
        elif event.key() == Qt.Key_Down:
            self.skip()
        else:
            super().keyPressEvent(event)
