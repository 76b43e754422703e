"""`python -m greenloop` is the console script (named `greenloop`, so completion scripts call it by that name)."""

from greenloop.cli import app

if __name__ == "__main__":
    app(prog_name="greenloop")
