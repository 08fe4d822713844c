"""The benchmark suite: every figure of the service next to its floor, measured in one run.

`make bench` (or `python -m bench.run`) measures; bench/README.md explains each figure.
"""
