"""`python -m engage` is the same as the `engage` command."""

from engage.cli import main

if __name__ == "__main__":
    main()
