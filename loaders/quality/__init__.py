"""Data-quality specs read by `loaders.validate` (`checks.yml`: raw contract and gold tables)."""
