"""`make bench` entry of the taste benchmark (benchmarks/taste.py): python -m benchmarks taste [--quick]."""

from benchmarks.taste import run

__all__ = ["run"]
