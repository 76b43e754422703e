"""`python -m greenloop` is the console script."""

from greenloop.cli import app

if __name__ == "__main__":
    app()
