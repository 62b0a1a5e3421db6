"""`make bench` (`python -m bench`): every benchmark, each figure printed beside its baseline and the ratio.

    python -m bench [--quick] [sync] [site] [paper]

--quick measures each figure once (not the median of three) and sends a smaller sync workload: about a minute
on a developer's machine. The school clock is fixed for each benchmark (bench.timing), so the data, and with
them the pages and slips, are the same on any day. docs/benchmarks.md has the full run's figures.
"""

import argparse

from bench import paper, site_build, sync_ingest
from bench.timing import RUN, SITE_NOW, SYNC_NOW, fix_clock, load_note

QUICK_OPS = 20_000


def main() -> None:
    """Run the benchmarks named on the command line, or all."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each figure once, a smaller sync workload")
    parser.add_argument("names", nargs="*", metavar="sync|site|paper", help="the benchmarks to run (all by default)")
    args = parser.parse_args()
    if set(args.names) - {"sync", "site", "paper"}:
        parser.error(f"unknown benchmark: {', '.join(sorted(set(args.names) - {'sync', 'site', 'paper'}))}")
    wanted = set(args.names) or {"sync", "site", "paper"}
    RUN.quick, RUN.repeats = args.quick, 1 if args.quick else 3
    print(f"Tetrad benchmarks{' (quick)' if args.quick else ''}; {load_note()}")
    if "sync" in wanted:
        fix_clock(SYNC_NOW)
        if args.quick:
            sync_ingest.run(QUICK_OPS)
        else:
            sync_ingest.run()
    if "site" in wanted:
        fix_clock(SITE_NOW)
        site_build.run()
    if "paper" in wanted:
        fix_clock(SITE_NOW)
        paper.run()


if __name__ == "__main__":
    main()
