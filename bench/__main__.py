"""`make bench` (`python -m bench`): every benchmark, each figure printed beside its baseline and the ratio.

    python -m bench [--quick] [sync] [site] [paper] [notify] [classroom] [badlink]

--quick measures each figure once (not the median of three) and sends smaller workloads: about a minute for
sync, site and paper on a developer's machine. The school clock is fixed for each benchmark (bench.timing), so
the data, and with them the pages and slips, are the same on any day. docs/benchmarks.md has the full run's
figures.
"""

import argparse
import importlib

from bench.timing import RUN, SITE_NOW, SYNC_NOW, fix_clock, load_note

QUICK_OPS = 20_000
NAMES = ("sync", "site", "paper", "notify", "classroom", "badlink")


def main() -> None:
    """Run the benchmarks named on the command line, or all."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each figure once, smaller workloads")
    parser.add_argument("names", nargs="*", metavar="|".join(NAMES), help="the benchmarks to run (all by default)")
    args = parser.parse_args()
    unknown = set(args.names) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(sorted(unknown))}")
    wanted = set(args.names) or set(NAMES)
    RUN.quick, RUN.repeats = args.quick, 1 if args.quick else 3
    print(f"Tetrad benchmarks{' (quick)' if args.quick else ''}; {load_note()}")
    for name in NAMES:
        if name not in wanted:
            continue
        fix_clock(SYNC_NOW if name == "sync" else SITE_NOW)
        module = importlib.import_module(f"bench.{ {'sync': 'sync_ingest', 'site': 'site_build'}.get(name, name) }")
        if name == "sync" and args.quick:
            module.run(QUICK_OPS)
        elif name == "badlink":
            module.run(quick=args.quick)
        else:
            module.run()


if __name__ == "__main__":
    main()
