"""${{ values.name }}.

Replace `greet` with the library's real API; everything importable from here is public.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "greet"]


def greet(name: str = "world") -> str:
    """Return a greeting for *name*."""
    if not name.strip():
        raise ValueError("name must not be blank")
    return f"Hello, {name}!"
