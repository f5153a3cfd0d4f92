"""`python -m bench [poll|status|daemon|web|watchlist] [--n N ...]`: run the benchmarks."""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    which = ["poll", "status", "daemon", "web", "watchlist"]
    parser.add_argument("which", nargs="*", default=which, choices=which)
    parser.add_argument("--n", type=int, action="append", help="feed counts (default 30 1000)")
    args = parser.parse_args()
    if "poll" in args.which:
        from bench import poll_bench

        poll_bench.main(args.n or [30, 1000])
    if "status" in args.which:
        from bench import bench_status

        print(bench_status.report(bench_status.run()))
    if "daemon" in args.which:
        from bench import bench_daemon

        print(bench_daemon.report(bench_daemon.run()))
    if "web" in args.which:
        from bench import bench_web

        print(bench_web.report(bench_web.run()))
    if "watchlist" in args.which:
        from bench import bench_watchlist

        bench_watchlist.main()


if __name__ == "__main__":
    main()
