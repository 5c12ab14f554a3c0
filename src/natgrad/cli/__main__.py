"""``python -m natgrad.cli``: the ``natgrad`` command line."""

from natgrad.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
