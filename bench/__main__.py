"""`make bench`: every benchmark, each printing its figures and its baseline."""

import sys

from bench import classroom, notify, paper, site_build, sync_ingest


def main() -> None:
    """Run the benchmarks named on the command line, or all."""
    wanted = set(sys.argv[1:]) or {"sync", "site", "paper", "notify", "classroom"}
    if "sync" in wanted:
        sync_ingest.run()
    if "site" in wanted:
        site_build.run()
    if "paper" in wanted:
        paper.run()
    if "notify" in wanted:
        notify.run()
    if "classroom" in wanted:
        classroom.run()


if __name__ == "__main__":
    main()
