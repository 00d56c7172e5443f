"""The benchmark behind `./test_runner.py bench`: what coverage, the harness and the app cost.

Sections (`--only`), each a module here:

    overhead    the API suite without coverage and under each compare configuration, interleaved
    server      the threaded test server: start-up, shutdown, per-request latency HTTP vs ASGI
    xdist       -n 1 vs -n 2 with coverage, and the cost of combining and of each report
    throughput  requests per second of convert and portfolio valuation vs a trivial endpoint
    load        loading the bundled ECB history into an empty database (SQLite, PostgreSQL)

`stats` holds the arithmetic (median, range, ratio, the interleaving order), `report` the table
and `reports/bench.json`, `main` the order of things. Targets are checked here and printed, never
asserted by timed tests: a timing test on a shared machine fails for reasons of its neighbours.
"""
