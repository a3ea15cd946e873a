"""Dark theme, colours of the keeper-score bands, and the formatting of scores."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QToolBar, QToolButton

from fluxcull.catalog.ratings import COLOR_LABELS
from fluxcull.catalog.scores import BAND_DEFS, score_text  # noqa: F401 (the window's scores: written once there)

# a colour per band of fluxcull.catalog.scores (1.0 confirmed, 0.8+ high, 0.5-0.8 uncertain, below 0.5 low)
BAND_COLOURS = {
    "confirmed": QColor("#f2c230"),
    "high": QColor("#43b96f"),
    "uncertain": QColor("#e6963a"),
    "low": QColor("#c4524e"),
    "unscored": QColor("#5d626b"),
}
assert set(BAND_COLOURS) == {b.name for b in BAND_DEFS}, "a colour for every band"

# a technical failure (score rule 4: blank, near-black, wildly blurred) is no low score: its own colour and sign
FAILURE_COLOUR = QColor("#4a4f58")
FAILURE_SIGN = QColor("#f0b429")

# colour labels (fluxcull.catalog.ratings.COLOR_LABELS), as Lightroom shows them; stars in gold
LABEL_COLOURS = {
    "red": QColor("#e0443e"),
    "yellow": QColor("#f2d230"),
    "green": QColor("#3fbf5a"),
    "blue": QColor("#3b82e0"),
    "purple": QColor("#a35fd6"),
}
assert set(LABEL_COLOURS) == set(COLOR_LABELS), "a colour for every colour label"
STAR_COLOUR = QColor("#f2c230")

ACCENT = QColor("#4d9de0")
KEEP_COLOUR = QColor("#43b96f")
REJECT_COLOUR = QColor("#d9534f")
CARD = QColor("#26282c")
CARD_SELECTED = QColor("#33373e")
BACKGROUND = QColor("#1b1c1f")
TEXT = QColor("#d8dadf")
TEXT_DIM = QColor("#8b9099")

STYLESHEET = """
QMainWindow, QDialog { background: #1b1c1f; }
QWidget { color: #d8dadf; }
QToolTip { color: #e8e8e8; background: #2c2f34; border: 1px solid #444; }
QTreeWidget, QListView, QTableWidget, QTextBrowser, QPlainTextEdit {
    background: #1b1c1f; border: none; outline: 0; }
QTreeWidget::item { padding: 3px 2px; }
QTreeWidget::item:selected, QTableWidget::item:selected { background: #2f4d6b; color: #ffffff; }
QHeaderView::section { background: #222428; color: #8b9099; border: none;
    border-bottom: 1px solid #33363b; padding: 4px 6px; }
QToolBar { background: #222428; border: none; border-bottom: 1px solid #111; spacing: 6px; padding: 3px 6px; }
QToolBar QLabel { color: #8b9099; padding-left: 6px; }
QStatusBar { background: #222428; color: #aab0b8; border-top: 1px solid #111; }
QStatusBar QLabel { padding: 0 6px; }
/* spin boxes keep the style's own look: a style sheet on them loses their arrows */
QComboBox, QLineEdit { background: #2a2d32; border: 1px solid #3a3e45; border-radius: 3px;
    padding: 2px 6px; min-height: 20px; }
QComboBox:hover, QLineEdit:hover { border-color: #4d9de0; }
QComboBox QAbstractItemView { background: #2a2d32; selection-background-color: #2f4d6b; }
QPushButton, QToolButton { background: #2f3338; border: 1px solid #3d4148; border-radius: 3px; padding: 3px 10px; }
QPushButton:hover, QToolButton:hover { background: #383d44; border-color: #4d9de0; }
QPushButton:pressed, QToolButton:pressed { background: #2f4d6b; }
QPushButton:default { border-color: #4d9de0; }
QToolButton:checked { background: #2f4d6b; border-color: #4d9de0; }
QPushButton:disabled, QToolButton:disabled { color: #5d626b; background: #26292d; border-color: #30343a; }
QToolButton::menu-indicator { image: none; width: 0px; }  /* a menu button says ▾ in its text */
/* the style's check box outline is nearly the window's colour on this theme: a lit outline, filled when on */
QCheckBox::indicator { width: 12px; height: 12px; border: 1px solid #8b9099; border-radius: 2px; background: #2a2d32; }
QCheckBox::indicator:hover { border-color: #4d9de0; }
QCheckBox::indicator:checked { background: #4d9de0; border-color: #4d9de0; }
QCheckBox::indicator:disabled { border-color: #3d4148; }
/* the toolbar's » button (the tools a narrow window has no room for): the buttons' padding above
   left its arrow no width at all */
QToolButton#qt_toolbar_ext_button { padding: 0px; min-width: 16px; }
QProgressBar { background: #2a2d32; border: 1px solid #3a3e45; border-radius: 3px; text-align: center;
    max-height: 14px; color: #d8dadf; }
QProgressBar::chunk { background: #4d9de0; border-radius: 2px; }
QSlider::groove:horizontal { height: 4px; background: #3a3e45; border-radius: 2px; }
QSlider::handle:horizontal { background: #aab0b8; width: 12px; margin: -5px 0; border-radius: 6px; }
QSplitter::handle { background: #111214; }
QMenuBar { background: #222428; }
QMenuBar::item:selected, QMenu::item:selected { background: #2f4d6b; }
QMenu { background: #26282c; border: 1px solid #3a3e45; }
QScrollBar:vertical { background: #1b1c1f; width: 12px; }
QScrollBar::handle:vertical { background: #3a3e45; min-height: 30px; border-radius: 4px; margin: 2px; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0; width: 0; }
QScrollBar:horizontal { background: #1b1c1f; height: 12px; }
QScrollBar::handle:horizontal { background: #3a3e45; min-width: 30px; border-radius: 4px; margin: 2px; }
QLabel#panelTitle { color: #8b9099; font-weight: bold; padding: 6px 8px 2px 8px; }
QLabel#exifKey { color: #8b9099; }
QFrame#sidePanel { background: #202226; }
"""


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.Window: "#1b1c1f", QPalette.WindowText: "#d8dadf", QPalette.Base: "#1b1c1f",
        QPalette.AlternateBase: "#222428", QPalette.ToolTipBase: "#2c2f34", QPalette.ToolTipText: "#e8e8e8",
        QPalette.Text: "#d8dadf", QPalette.Button: "#2f3338", QPalette.ButtonText: "#d8dadf",
        QPalette.BrightText: "#ffffff", QPalette.Highlight: "#2f4d6b", QPalette.HighlightedText: "#ffffff",
        QPalette.Link: "#4d9de0", QPalette.PlaceholderText: "#6b7078",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        pal.setColor(QPalette.Disabled, role, QColor("#5d626b"))
    app.setPalette(pal)
    font = app.font()
    if font.pointSizeF() > 0 and font.pointSizeF() < 9:
        font.setPointSizeF(9)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)


def show_overflow(toolbar: QToolBar) -> None:
    """Give the toolbar's » button (the tools a narrow window has no room for) an arrow drawn in the
    theme's text colour: the style's own is dark on this dark theme."""
    button = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    if button is None:
        return
    pix = QPixmap(32, 32)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setPen(QColor("#d8dadf"))
    font = p.font()
    font.setPixelSize(26)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(0, 0, 32, 32), Qt.AlignCenter, "»")
    p.end()
    button.setIcon(QIcon(pix))

