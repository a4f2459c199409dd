"""Benchmarks of the Smeeton server, run by hand or collected by a tool."""
