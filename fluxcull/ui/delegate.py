"""Paints one grid cell: thumbnail, keeper-score pill coloured by band, decision badge, keeper star;
a technical failure's pill (a warning sign, not a low score), a rejected confirmed keeper's (a hollow
star on red), a file that failed to ingest (its reason where the thumbnail would be), a
"RAW+JPEG" tag on the one cell of a RAW+JPEG pair, the photographer's stars (small gold stars,
bottom left) and colour label (a dot, top right), and a stack's badge (top left, beside the decision
badge): a collapsed stack (its best frame standing for a burst) with its frame count, a frame of an
open stack with its place in it."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from fluxcull.catalog.scores import CONFIRMED_STATES, display_band, keeper_state
from fluxcull.ui import theme
from fluxcull.ui.model import RecordRole, display_name

FOOTER = 20
_LEFT_MIDDLE = Qt.AlignLeft | Qt.AlignVCenter  # combined once: an enum "|" is a Python call per cell
_RIGHT_MIDDLE = Qt.AlignRight | Qt.AlignVCenter
PAD = 6
MARGIN = 3


def star_polygon(cx: float, cy: float, r: float) -> QPolygonF:
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.45
        a = -math.pi / 2 + i * math.pi / 5
        pts.append(QPointF(cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return QPolygonF(pts)


def draw_badge(p: QPainter, centre: QPointF, radius: float, kind: str) -> None:
    """A round keep (check) or reject (cross) badge."""
    colour = theme.KEEP_COLOUR if kind == "keep" else theme.REJECT_COLOUR
    p.setPen(QPen(QColor(0, 0, 0, 140), 1.0))
    p.setBrush(colour)
    p.drawEllipse(centre, radius, radius)
    pen = QPen(QColor("#ffffff"), max(1.6, radius * 0.22), Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
    p.setPen(pen)
    r = radius * 0.45
    x, y = centre.x(), centre.y()
    if kind == "keep":
        path = QPainterPath(QPointF(x - r, y))
        path.lineTo(QPointF(x - r * 0.25, y + r * 0.75))
        path.lineTo(QPointF(x + r, y - r * 0.7))
        p.setBrush(Qt.NoBrush)
        p.drawPath(path)
    else:
        p.drawLine(QPointF(x - r, y - r), QPointF(x + r, y + r))
        p.drawLine(QPointF(x - r, y + r), QPointF(x + r, y - r))


_METRICS: dict = {}

# stars and colour labels: paths, pens and brushes made once, so a cell paints them with a few calls
STAR_R, STAR_STEP, DOT_R = 5.0, 11.0, 6.0
_STAR_PATHS: dict[int, tuple[QPainterPath, QRectF]] = {}
_STAR_BACK = QColor(0, 0, 0, 150)
_DOT_PEN = QPen(QColor(0, 0, 0, 170), 1.5)


def _stars_path(n: int) -> tuple[QPainterPath, QRectF]:
    """`n` stars in a row from (0, 0) rightwards (their centres STAR_STEP apart, on y = -STAR_R - 2),
    and the dark rounded plate behind them; made once per n."""
    got = _STAR_PATHS.get(n)
    if got is None:
        path = QPainterPath()
        for i in range(n):
            path.addPolygon(star_polygon(STAR_R + 3 + i * STAR_STEP, -STAR_R - 2.5, STAR_R))
            path.closeSubpath()
        got = _STAR_PATHS[n] = (path, QRectF(0, -2 * STAR_R - 5, (n - 1) * STAR_STEP + 2 * STAR_R + 6,
                                             2 * STAR_R + 5))
    return got


def stars_origin(image_rect: QRectF) -> QPointF:
    """Where a cell's stars start: the bottom left corner of its image, inset."""
    return QPointF(image_rect.left() + 4, image_rect.bottom() - 4)


def label_dot_centre(image_rect: QRectF) -> QPointF:
    """Where a cell's colour-label dot sits: the top right corner of its image, inset."""
    return QPointF(image_rect.right() - DOT_R - 5, image_rect.top() + DOT_R + 5)


def draw_stars(p: QPainter, origin: QPointF, n: int) -> None:
    """`n` small gold stars on a dark plate, from `origin` (bottom left) rightwards."""
    path, plate = _stars_path(n)
    p.translate(origin)
    p.setPen(Qt.NoPen)
    p.setBrush(_STAR_BACK)
    p.drawRoundedRect(plate, 4, 4)
    p.setBrush(theme.STAR_COLOUR)
    p.drawPath(path)
    p.translate(-origin)


def draw_label_dot(p: QPainter, centre: QPointF, label: str) -> None:
    """A colour label's dot (theme.LABEL_COLOURS), ringed dark so it reads on any photo."""
    p.setPen(_DOT_PEN)
    p.setBrush(theme.LABEL_COLOURS[label])
    p.drawEllipse(centre, DOT_R, DOT_R)


def warning_polygon(cx: float, cy: float, r: float) -> QPolygonF:
    return QPolygonF([QPointF(cx, cy - r), QPointF(cx + r * 1.1, cy + r * 0.8), QPointF(cx - r * 1.1, cy + r * 0.8)])


def draw_warning(p: QPainter, cx: float, cy: float, r: float) -> None:
    """A warning sign: an amber triangle with a dark '!'."""
    p.setPen(Qt.NoPen)
    p.setBrush(theme.FAILURE_SIGN)
    p.drawPolygon(warning_polygon(cx, cy, r))
    p.setPen(QPen(QColor("#1b1c1f"), max(1.2, r * 0.28), Qt.SolidLine, Qt.RoundCap))
    p.drawLine(QPointF(cx, cy - r * 0.45), QPointF(cx, cy + r * 0.2))
    p.drawPoint(QPointF(cx, cy + r * 0.55))


def _metrics(font: QFont) -> QFontMetrics:
    fm = _METRICS.get(font.key())
    if fm is None:
        fm = _METRICS[font.key()] = QFontMetrics(font)
    return fm


def _pill_text(score: float | None, confirmed: bool) -> str:
    return ("1.00" if score is None else f"{score:.2f}") if confirmed else theme.score_text(score)


def pill_width(score: float | None, confirmed: bool, font: QFont, state: str = "") -> float:
    icon = confirmed or state in ("failure", "rejected_keeper")
    return _metrics(font).horizontalAdvance(_pill_text(score, confirmed)) + 12 + (12 if icon else 0)


def draw_score_pill(p: QPainter, anchor_right: QPointF, score: float | None, confirmed: bool, font: QFont,
                    height: float = 17.0, state: str = "") -> None:
    """A rounded score label whose right-bottom corner is at anchor_right. `state`
    (fluxcull.catalog.scores.keeper_state): a technical failure shows a warning sign on its own
    colour, a rejected confirmed keeper a hollow star."""
    band = display_band(score, confirmed)
    text = _pill_text(score, confirmed)
    icon = confirmed or state in ("failure", "rejected_keeper")
    w = pill_width(score, confirmed, font, state)
    rect = QRectF(anchor_right.x() - w, anchor_right.y() - height, w, height)
    colour = theme.FAILURE_COLOUR if state == "failure" else theme.BAND_COLOURS[band]
    p.setPen(Qt.NoPen)
    p.setBrush(_translucent(colour))
    p.drawRoundedRect(rect, height / 2, height / 2)
    text_rect = rect.adjusted(6, 0, -6, 0)
    dark = band in ("confirmed", "high", "uncertain") and state != "failure"
    if icon:
        cx, cy = rect.left() + 11, rect.center().y()
        if state == "failure":
            draw_warning(p, cx, cy, 5.0)
        elif state == "rejected_keeper":
            p.setPen(QPen(theme.BAND_COLOURS["confirmed"], 1.4))
            p.setBrush(Qt.NoBrush)
            p.drawPolygon(star_polygon(cx, cy, 5.5))
        else:
            p.setBrush(QColor("#2a2100"))
            p.drawPolygon(star_polygon(cx, cy, 5.0))
        text_rect = rect.adjusted(17, 0, -6, 0)
    p.setPen(_PILL_TEXT_DARK if dark else _PILL_TEXT_LIGHT)
    p.setFont(font)
    p.drawText(text_rect, Qt.AlignCenter, text)


_PILL_TEXT_DARK, _PILL_TEXT_LIGHT = QColor("#15171a"), QColor("#f4f4f4")
_TRANSLUCENT: dict[int, QColor] = {}


def _translucent(colour: QColor) -> QColor:
    """The pill's fill: the band colour at alpha 235 (made once per colour, not once per cell)."""
    rgba = colour.rgba()
    fill = _TRANSLUCENT.get(rgba)
    if fill is None:
        fill = _TRANSLUCENT[rgba] = QColor(colour.red(), colour.green(), colour.blue(), 235)
    return fill


def draw_stack_badge(p: QPainter, anchor: QPointF, size: int, position: int | None, folded: bool, font: QFont) -> None:
    """A stack's badge, its top-left corner at `anchor`: collapsed, two stacked cards and the frame
    count ("5"); a frame of an open stack, its place ("2/5"). Drawn once per text and kept as a
    pixmap: a screenful of stacks paints as fast as one without."""
    text = str(size) if folded else f"{position or '?'}/{size}"
    dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
    key = (text, folded, font.key(), dpr)
    pix = _STACK_BADGES.get(key)
    if pix is None:
        pix = _STACK_BADGES[key] = _stack_badge(text, folded, font, dpr)
    p.drawPixmap(anchor, pix)


def _stack_badge(text: str, folded: bool, font: QFont, dpr: float) -> QPixmap:
    w = _metrics(font).horizontalAdvance(text) + (26 if folded else 12)
    pix = QPixmap(int(math.ceil((w + 2) * dpr)), int(math.ceil(19 * dpr)))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing, True)
    rect = QRectF(1, 1, w, 17.0)
    p.setPen(QPen(theme.ACCENT, 1.2) if folded else Qt.NoPen)
    p.setBrush(_STACK_FILL)
    p.drawRoundedRect(rect, 8.5, 8.5)
    if folded:
        p.setPen(QPen(QColor("#f4f4f4"), 1.1))
        x, y = rect.left() + 7, rect.top() + 4
        p.drawRoundedRect(QRectF(x + 3, y, 8, 7), 1.5, 1.5)
        p.drawRoundedRect(QRectF(x, y + 3, 8, 7), 1.5, 1.5)
        rect = rect.adjusted(18, 0, 0, 0)
    p.setPen(_PILL_TEXT_LIGHT if folded else theme.TEXT)
    p.setFont(font)
    p.drawText(rect.adjusted(0, 0, -6 if folded else 0, 0), Qt.AlignCenter, text)
    p.end()
    return pix


_STACK_FILL = QColor(20, 22, 26, 215)
_STACK_BADGES: dict[tuple, QPixmap] = {}


def record_pill(rec: dict, linked: bool, font: QFont, height: float = 17.0, dpr: float = 1.0) -> QPixmap:
    """The grid's score pill of a photo record as a pixmap (compare's captions): the same state
    (fluxcull.catalog.scores.keeper_state) and the same drawing as a thumbnail's.
    `linked`: the photo is an original linked from the keeper archive."""
    state = keeper_state(rec, linked)
    confirmed = state in CONFIRMED_STATES
    score = rec.get("keeper_score")
    w = math.ceil(pill_width(score, confirmed, font, state)) + 1
    pix = QPixmap(int(w * dpr), int(math.ceil(height * dpr)))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing, True)
    draw_score_pill(p, QPointF(w, height), score, confirmed, font, height, state)
    p.end()
    return pix


def pair_label(rec: dict) -> str | None:
    """The tag of a RAW+JPEG pair's cell ('RAW+JPEG', or 'RAW+HEIF'), None for a single file."""
    if not rec.get("paired"):
        return None
    return "RAW+HEIF" if rec.get("format") == "heif" else "RAW+JPEG"


_PAIR_FILL, _PAIR_TEXT = QColor(20, 22, 26, 200), QColor("#e8eaee")


def draw_pair_tag(p: QPainter, top_right: QPointF, text: str, font: QFont) -> None:
    """A small dark tag with `text` whose top-right corner is at `top_right`."""
    fm = _metrics(font)
    w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
    rect = QRectF(top_right.x() - w, top_right.y(), w, h)
    p.setPen(Qt.NoPen)
    p.setBrush(_PAIR_FILL)
    p.drawRoundedRect(rect, 3, 3)
    p.setPen(_PAIR_TEXT)
    p.setFont(font)
    p.drawText(rect, Qt.AlignCenter, text)


class ThumbDelegate(QStyledItemDelegate):
    """`view` supplies thumb_side, the loader and the cache key of a record."""

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.small = QFont(view.font())
        self.small.setPointSizeF(max(7.5, self.small.pointSizeF() * 0.85))
        self.bold = QFont(self.small)
        self.bold.setBold(True)
        self.fm_small = QFontMetrics(self.small)

    def sizeHint(self, option, index) -> QSize:
        return self.view.gridSize()

    def paint(self, p: QPainter, option, index) -> None:
        rec = index.data(RecordRole)
        if rec is None:
            return
        model = index.model()
        p.save()
        p.setRenderHint(QPainter.Antialiasing, True)
        cell = QRect(option.rect).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        selected = bool(option.state & QStyle.State_Selected)
        current = self.view.currentIndex() == index
        p.setPen(Qt.NoPen)
        p.setBrush(theme.CARD_SELECTED if selected else theme.CARD)
        p.drawRoundedRect(QRectF(cell), 4, 4)

        side = self.view.thumb_side
        area = QRect(cell.left() + (cell.width() - side) // 2, cell.top() + PAD, side, side)
        decision = rec.get("decision") or "none"
        stacked = (rec.get("stack_size") or 0) > 1
        query = getattr(model, "query", None)
        folded = stacked and query is not None and query.collapses(rec.get("stack_id"))
        key = self.view.thumb_cache_key(rec)
        pix = self.view.loader.pixmap(key) if key is not None else None
        if pix is not None and not pix.isNull():
            dpr = pix.devicePixelRatio()
            w, h = pix.width() / dpr, pix.height() / dpr
            scale = min(area.width() / w, area.height() / h, 1.0 if self.view.no_upscale else 99.0)
            tw, th = int(round(w * scale)), int(round(h * scale))
            x, y = area.left() + (area.width() - tw) // 2, area.top() + (area.height() - th) // 2
            if folded:  # a collapsed stack: the cards behind its best frame (plain fills: no antialiasing)
                p.fillRect(x + 6, y - 6, tw, th, theme.TEXT_DIM)
                p.fillRect(x + 7, y - 5, tw - 2, th - 2, theme.CARD_SELECTED)
                p.fillRect(x + 3, y - 3, tw, th, theme.TEXT_DIM)
                p.fillRect(x + 4, y - 2, tw - 2, th - 2, theme.CARD_SELECTED)
            if decision == "reject":
                p.setOpacity(0.28)
            p.setRenderHint(QPainter.Antialiasing, False)
            if tw == pix.width() and th == pix.height():
                p.drawPixmap(x, y, pix)  # a plain blit: the loader decoded it at the cell's size
            else:
                p.setRenderHint(QPainter.SmoothPixmapTransform, True)
                p.drawPixmap(QRect(x, y, tw, th), pix)
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setOpacity(1.0)
            image_rect = QRectF(x, y, tw, th)
        else:
            image_rect = QRectF(area)
            p.setBrush(QColor("#202226"))
            p.drawRect(image_rect)
            if rec.get("status") == "error":  # a file that failed to ingest: say why
                draw_warning(p, image_rect.center().x(), image_rect.top() + 22, 10.0)
                p.setPen(theme.TEXT)
                p.setFont(self.small)
                p.drawText(image_rect.adjusted(8, 40, -8, -8), Qt.AlignHCenter | Qt.AlignTop | Qt.TextWordWrap,
                           f"Could not be read:\n{rec.get('error') or 'unknown reason'}")
            elif rec.get("status") != "loading" and (key is None or self.view.loader.is_failed(key)):
                p.setPen(theme.TEXT_DIM)
                p.setFont(self.small)
                label = (rec.get("format") or "no preview").upper()
                p.drawText(image_rect, Qt.AlignCenter, label)

        # decision badge (top left) and score pill (bottom right of the image)
        if decision in ("keep", "reject"):
            draw_badge(p, QPointF(image_rect.left() + 12, image_rect.top() + 12), 8.5, decision)
        pair = pair_label(rec)
        if pair is not None:
            draw_pair_tag(p, QPointF(image_rect.right() - 3, image_rect.top() + 3), pair, self.small)
        if stacked:
            left = image_rect.left() + (24 if decision in ("keep", "reject") else 4)
            draw_stack_badge(p, QPointF(left, image_rect.top() + 4), rec["stack_size"], rec.get("stack_position"),
                             folded, self.bold)
        state = model.state(rec) if hasattr(model, "state") else ""
        confirmed = state in CONFIRMED_STATES
        score = rec.get("keeper_score")
        if rec.get("status") != "error" and (score is not None or confirmed or self.view.show_unscored):
            draw_score_pill(p, QPointF(image_rect.right() - 4, image_rect.bottom() - 4), score, confirmed, self.bold,
                            state=state)

        stars, label = rec.get("rating"), rec.get("color_label")
        if stars:
            draw_stars(p, stars_origin(image_rect), stars)
        if label:
            draw_label_dot(p, label_dot_centre(image_rect), label)

        # footer: file name, role for non-originals
        p.setFont(self.small)
        p.setPen(theme.TEXT if selected else theme.TEXT_DIM)
        footer = QRect(cell.left() + PAD, cell.bottom() - FOOTER - PAD // 2 + 2, cell.width() - 2 * PAD, FOOTER)
        name = display_name(rec)
        role = rec.get("role")
        tag = {"inbox": "INBOX", "keepers": "ARCHIVE"}.get(role or "", "")
        if tag:
            tag_w = self.fm_small.horizontalAdvance(tag) + 6
            p.drawText(footer.adjusted(footer.width() - tag_w, 0, 0, 0), _RIGHT_MIDDLE, tag)
            footer.setRight(footer.right() - tag_w)
        p.drawText(footer, _LEFT_MIDDLE,
                   self.fm_small.elidedText(name, Qt.ElideMiddle, footer.width()))

        if selected or current:
            p.setBrush(Qt.NoBrush)
            p.setPen(QPen(theme.ACCENT if selected else QColor("#6b7078"), 2.0 if selected else 1.0))
            p.drawRoundedRect(QRectF(cell).adjusted(1, 1, -1, -1), 4, 4)
        p.restore()
