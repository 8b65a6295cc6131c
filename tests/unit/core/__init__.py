"""Provides the core tests: ID numbers, eligibility, regional rule files, the registry and activation tickets."""
