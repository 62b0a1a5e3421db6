"""`make bench`: every benchmark, each printing its figures and its baseline."""

import sys

from bench import sync_ingest


def main() -> None:
    """Run the benchmarks named on the command line, or all."""
    wanted = set(sys.argv[1:]) or {"sync"}
    if "sync" in wanted:
        sync_ingest.run()


if __name__ == "__main__":
    main()
