"""`make bench`: every benchmark, each printing its figures and its baseline.

    python -m bench                    # all
    python -m bench badlink --quick    # some, `--quick` for a smaller scale where a benchmark has one
"""

import sys

from bench import badlink, paper, site_build, sync_ingest


def main() -> None:
    """Run the benchmarks named on the command line, or all."""
    args = sys.argv[1:]
    quick = "--quick" in args
    wanted = {a for a in args if not a.startswith("--")} or {"sync", "site", "paper", "badlink"}
    if "sync" in wanted:
        sync_ingest.run()
    if "site" in wanted:
        site_build.run()
    if "paper" in wanted:
        paper.run()
    if "badlink" in wanted:
        badlink.run(quick=quick)


if __name__ == "__main__":
    main()
