"""The bundled demo: a small photographer's world built from real photos shipped inside installed
packages (scikit-image's sample photographs), nothing downloaded and nothing copied from elsewhere.

build.build_demo_folders -> ORIGINALS (several walks of bursts, Ricoh-style names, EXIF times),
KEEPERS (resized, renamed, edited exports of the best frames) and INBOX (a new walk), all inside the
demo library folder. loop.demo_job then ingests, matches, embeds, trains and scores them.
"""
