"""Tools of the repository that are not part of the runtime: the benchmark (``tools.bench``) and
the generators of real-output test fixtures (``tools.fixtures``)."""
