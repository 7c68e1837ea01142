"""The names of the benchmark protocols, apart from tasks.py (which needs numpy and the evaluation)
so that `samesense bench --help` can list them without importing either. This file imports nothing,
and the package's __init__.py nothing heavy. tasks.py re-exports PROTOCOLS; each of its task
classes has one of these names as its `protocol`."""

PROTOCOLS = ["open-set", "pairs", "intent", "speed"]  # in the order the report shows them
