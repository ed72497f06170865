"""What both sides share: stdlib only, importable on Python 3.6 (the Jetson TX2's), no TensorFlow.

    errors      the one error tree for mistakes a user can fix
    jsonfile    atomic JSON writes, reads, kind/format-version checks
    tomlfile    TOML reading (tomllib, or its backport tomli below Python 3.11)
    metrics     what a metric is: unit, group, summary statistic, exactness, the notes the judge reads
    techniques  what a technique is: its settings with types and ranges, whether it retrains, its file
    catalog     which models exist: the mini-zoo's names and Table I's metadata as data (no Keras)
    inputs      the user's inputs (--imagenet, ...): what they are and how they reach a worker
    profiles    the experiment matrix, validated completely when loaded
    records     one record per measured cell
    results     the results directory: every path, kind and format version in it

The device side (`artifact.device`) and the host side (`artifact.host`) import this package and
themselves only; `tests/behaviour/test_architecture.py` checks it.
"""
