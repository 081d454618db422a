"""`python -m spanhouse.collector` runs the same CLI as `spanhouse`."""

from spanhouse.collector.cli import main

main()
