"""Helpers of the test suite: stores per xdist worker (stores.py), the CLI in-process and as a process
(cli.py), fault injection through the CLI's hooks (faults.py), a throwaway PostgreSQL cluster
(pgcluster.py) and the Snowflake emulator (snowflake_emulator.py), and data builders."""
