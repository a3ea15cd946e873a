"""Decisions travel: fluxcull's keeps, rejects and keeper scores carried out of the catalog.

Data flow, one way only (catalog -> files; nothing here writes the catalog):

    Catalog.export_records (fluxcull.catalog.export_reads)   the selected photos, decision, score, session
      -> xmp_fields    what a photo's sidecar should say (the export.xmp setting: stars, labels)
      -> xmp_merge     an existing sidecar parsed with defusedxml and edited in place: only the fields
                       fluxcull owns change, every other byte stays
      -> sidecars      which sidecar files are a photo's and where they go (a mirror folder in the
                       library, or beside the photo), with the backup of the one replaced
      -> export_xmp    the job: `fluxcull export xmp`, Library > Export decisions in the app; writes
                       through fileio (temp file, fsync, rename; many at once)
    Catalog.export_records
      -> files_plan    each chosen photo's folder and name under DEST (layouts, collisions)
      -> export_files  the job: `fluxcull export files` copies (SHA-256 verified), links or lists them,
                       with selection writing the list and the CSV into DEST
    places             where an export may not write: among the photographer's photos

Photos themselves are only ever read (export files copies them; export xmp never opens them). Every
job is a generator of fluxcull.jobs.Progress that checks a CancelToken between photos, so the command
line and the app's job thread drive the same code. Nothing here imports Qt or torch.
"""
