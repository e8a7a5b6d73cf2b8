"""`python -m advisor_bot` runs the CLI."""

from .cli import main

if __name__ == "__main__":
    main()
