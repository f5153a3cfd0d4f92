"""Benchmarks, run with `make bench`. They report ratios against baselines measured in
the same run, because the machines are shared and noisy."""
