"""Baselines measured beside samesense models (optional extra: pip install samesense[baselines])."""
