"""Decisions travel: fluxcull's keeps, rejects and keeper scores carried out of the catalog.

Data flow, one way only (catalog -> files; nothing here writes the catalog):

    Catalog.export_records (fluxcull.catalog.export_reads)   the selected photos, decision, score, session
      -> xmp_fields    what a photo's sidecar should say (the export.xmp setting: stars, labels)
      -> xmp_merge     an existing sidecar parsed with defusedxml and edited in place: only the fields
                       fluxcull owns change, every other byte stays
      -> sidecars      where each sidecar goes (a mirror folder in the library, or beside the photo)
                       and the atomic write with its backup
      -> export_xmp    the job: `fluxcull export xmp`, Library > Export decisions in the app
    Catalog.export_records
      -> export_files  the job: `fluxcull export files` copies, links or lists the chosen photos into
                       one folder (layouts, collisions, SHA-256 verification), with selection.py
                       writing the list and the CSV beside them

Photos themselves are only ever read (export files copies them; export xmp never opens them). Every
job is a generator of fluxcull.jobs.Progress that checks a CancelToken between photos, so the command
line and the app's job thread drive the same code. Nothing here imports Qt or torch.
"""
