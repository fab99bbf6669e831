from mlexp.cli import console

if __name__ == "__main__":  # not when a spawned process imports it (the figure drawer)
    console()
