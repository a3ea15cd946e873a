"""Reading photographs: which files are photos (formats), their metadata (exif), pixels from the
fastest adequate source (decode) and cached thumbnails (thumbs).

Pure Pillow / rawpy / exifread: nothing here imports Qt or torch.
"""
