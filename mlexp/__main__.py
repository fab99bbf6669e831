from mlexp.cli import main

if __name__ == "__main__":  # not when a spawned process imports it (the figure drawer)
    raise SystemExit(main())
