"""Tools of the repository that are not part of the runtime: the benchmark (``tools.bench``)."""
