"""Benchmarks: orchestra against plain LangGraph, langgraph-supervisor and one agent.

``python -m benchmarks`` (or ``make bench``) runs them all and writes ``BENCHMARKS.md`` and
``BENCHMARKS.png``. Nothing here asserts a time; ``tests/test_benchmarks.py`` only checks
that the harness runs at N = 2.
"""
