"""`python -m greenloop` is the console script (named `greenloop`, so completion scripts call it by that name)."""

from greenloop.entry import main

if __name__ == "__main__":
    main()
