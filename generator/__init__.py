"""Backlot: Backstage's catalog, TechDocs and templates as a static site."""

__version__ = "0.1.0"
