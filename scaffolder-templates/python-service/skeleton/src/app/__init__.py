"""${{ values.name }}."""
