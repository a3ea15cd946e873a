"""fluxcull benchmarks: `make bench` (python -m benchmarks [NAME...] [--quick]).

Each module `bench_<name>.py` defines `run(out_dir: Path, quick: bool) -> dict` and writes
`<out_dir>/<name>.json` and `<out_dir>/<name>.md` through `benchmarks.common.write_results`.
Speed is always quoted against a baseline measured in the same run.
"""
