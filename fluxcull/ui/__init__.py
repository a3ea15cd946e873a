"""The culling desktop app (PySide6); the only package that imports Qt.

Data flow:

    catalog (SQLite, WAL) --PhotoQuery/photo_ids--> PhotoListModel (ordered ids; records fetched
        in pages on demand) --> GridView (one QListView, uniform cells) + ThumbDelegate (paints the
        thumbnail, keeper-score pill coloured by band, keep/reject badge, confirmed-keeper star)
    GridView's visible rows --> ThumbLoader (QThreadPool; QImageReader.setScaledSize reads the
        512 px JPEG thumbnails off the GUI thread) --> QImage --> QPixmap on the GUI thread -->
        PixmapCache (LRU bounded in bytes) --> viewport repaint. Requests for rows scrolled away
        are dropped before they run.
    keys (P/X/U, arrows, Space/E, C, G, Ctrl+Z) --> MainWindow: the cell shows the decision at
        once --> CatalogWriter (its own thread and connection) commits catalog.decisions.decide /
        prefer / undo_last in order, within milliseconds (waiting there, not in the window, when a
        job holds the write lock) --> the model re-reads the changed rows.
    Loupe / Compare --> ImageLoader (QThreadPool; media.decode.load_image) --> ImagePane.
    Model menu, inbox watcher, first-run guide --> JobRunner --> JobWorker (one QThread adapter
        driving any fluxcull.jobs generator; Progress -> signals, Cancel -> CancelToken) -->
        status-bar progress; on success the grid re-reads scores.
"""
