"""paperchart's scripts, by role: run from the repository root as `python3 -m scripts.<role>.<name>` when a script imports another."""
